import type { Middleware } from 'koa';
import { tooManyRequests } from '../../errors/index.js';
import type { RateLimits } from '../../rate-limit/index.js';
import type { AppState } from '../context.js';

/** Per-principal budget (runs after authenticate): RateLimit-* headers always, 429 when spent. */
export function rateLimit(limits: RateLimits): Middleware<AppState> {
  return async (ctx, next) => {
    const decision = await limits.request(ctx.state.principal!.key);
    ctx.set('RateLimit-Limit', String(decision.limit));
    ctx.set('RateLimit-Remaining', String(decision.remaining));
    ctx.set('RateLimit-Reset', String(decision.resetSeconds));
    ctx.set('RateLimit-Policy', `${decision.limit};w=60`);
    if (!decision.allowed) {
      throw tooManyRequests(
        decision.resetSeconds,
        `Rate limit of ${decision.limit} requests per minute reached; retry in ${decision.resetSeconds} s.`,
      );
    }
    await next();
  };
}
