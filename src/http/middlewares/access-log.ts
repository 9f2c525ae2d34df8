import type { Middleware } from 'koa';
import type { AppMetrics } from '../../metrics.js';
import type { AppState } from '../context.js';

/**
 * One JSON line per request, after the error renderer has set the final status, and the same
 * request in the metrics — labelled by its route template (`/api/v1/tickets/:id`), never the raw
 * path, so a scan of random URLs cannot multiply the series.
 */
export function accessLog(metrics?: AppMetrics): Middleware<AppState> {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const route = (ctx as { _matchedRoute?: string })._matchedRoute ?? (ctx.path === '/mcp' ? '/mcp' : 'unmatched');
      metrics?.observeRequest(ctx.method, route, ctx.status, ms / 1000);
      ctx.state.log.info(
        {
          method: ctx.method,
          path: ctx.path,
          status: ctx.status,
          duration_ms: Math.round(ms * 10) / 10,
          principal: ctx.state.principal?.key,
        },
        'request',
      );
    }
  };
}
