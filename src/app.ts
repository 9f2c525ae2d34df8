/**
 * createApp(deps): the Koa application with every middleware and router. It never listens: the API
 * process and the tests decide where it runs.
 */
import Koa from 'koa';
import { koaBody } from 'koa-body';
import { ApiRouter } from './http/api-router.js';
import type { AppDeps, AppState } from './http/context.js';
import { accessLog } from './http/middlewares/access-log.js';
import { errorHandler } from './http/middlewares/error-handler.js';
import { requestId } from './http/middlewares/request-id.js';
import { authRoutes } from './http/routes/auth/index.js';
import { docsRouter } from './http/routes/docs/index.js';
import { healthRoutes } from './http/routes/health/index.js';
import { ticketRoutes } from './http/routes/tickets/index.js';

export const API_PREFIX = '/api/v1';

export function createApp(deps: AppDeps): Koa<AppState> {
  const app = new Koa<AppState>({ proxy: true });
  const api = new ApiRouter(API_PREFIX);
  healthRoutes(api, deps);
  authRoutes(api, deps);
  ticketRoutes(api, deps);
  const openapi = api.document({
    title: 'ServiceMeow API',
    version: '0.1.0',
    description: 'Case management where every ticket is a durable Temporal workflow.',
  });
  api.router.get('/openapi.json', (ctx) => {
    ctx.body = openapi;
  });

  app.use(requestId(deps.logger));
  app.use(accessLog());
  app.use(errorHandler());
  app.use(
    koaBody({ json: true, urlencoded: false, text: false, multipart: false, jsonLimit: '1mb', jsonStrict: true }),
  );
  app.use(api.router.routes());
  app.use(api.router.allowedMethods({ throw: true }));
  app.use(docsRouter().routes());
  return app;
}
