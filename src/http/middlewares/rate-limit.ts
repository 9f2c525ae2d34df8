import type { Middleware, ParameterizedContext } from 'koa';
import { tooManyRequests } from '../../errors/index.js';
import type { RateDecision, RateLimits } from '../../rate-limit/index.js';
import type { AppState } from '../context.js';

/** One request from `key` against its budget, with the RateLimit-* headers set; REST, MCP and OAuth share it. */
export async function spendRequest(ctx: ParameterizedContext, limits: RateLimits, key: string): Promise<RateDecision> {
  const decision = await limits.request(key);
  ctx.set('RateLimit-Limit', String(decision.limit));
  ctx.set('RateLimit-Remaining', String(decision.remaining));
  ctx.set('RateLimit-Reset', String(decision.resetSeconds));
  ctx.set('RateLimit-Policy', `${decision.limit};w=60`);
  if (!decision.allowed) ctx.set('Retry-After', String(decision.resetSeconds));
  return decision;
}

/** Per-principal budget (runs after authenticate): RateLimit-* headers always, 429 when spent. */
export function rateLimit(limits: RateLimits): Middleware<AppState> {
  return async (ctx, next) => {
    const decision = await spendRequest(ctx, limits, ctx.state.principal!.key);
    if (!decision.allowed) {
      throw tooManyRequests(
        decision.resetSeconds,
        `Rate limit of ${decision.limit} requests per minute reached; retry in ${decision.resetSeconds} s.`,
      );
    }
    await next();
  };
}
