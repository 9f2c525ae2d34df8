import type { Middleware } from 'koa';
import type { AppState } from '../context.js';

/** One JSON line per request, after the error renderer has set the final status. */
export function accessLog(): Middleware<AppState> {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      ctx.state.log.info(
        { method: ctx.method, path: ctx.path, status: ctx.status, duration_ms: Math.round(ms * 10) / 10, principal: ctx.state.principal?.key },
        'request',
      );
    }
  };
}
