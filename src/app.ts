/**
 * createApp(deps): the Koa application with every middleware and router. It never listens: the API
 * process and the tests decide where it runs.
 */
import Koa from 'koa';
import { koaBody } from 'koa-body';
import { ApiRouter } from './http/api-router.js';
import type { AppDeps, AppState, RouteDeps } from './http/context.js';
import { accessLog } from './http/middlewares/access-log.js';
import { authenticate } from './http/middlewares/authenticate.js';
import { rateLimit } from './http/middlewares/rate-limit.js';
import { errorHandler } from './http/middlewares/error-handler.js';
import { requestId } from './http/middlewares/request-id.js';
import { authRoutes } from './http/routes/auth/index.js';
import { docsRouter } from './http/routes/docs/index.js';
import { healthRoutes, metricsRoutes } from './http/routes/health/index.js';
import { createMetrics } from './metrics.js';
import { ticketRoutes } from './http/routes/tickets/index.js';
import { apiKeyRoutes } from './http/routes/api-keys/index.js';
import { dashboardRoutes } from './http/routes/dashboard/index.js';
import { eventRoutes } from './http/routes/events/index.js';
import { EventHub } from './events/hub.js';
import { groupRoutes } from './http/routes/groups/index.js';
import { slaRoutes } from './http/routes/sla/index.js';
import { attachmentRoutes } from './http/routes/attachments/index.js';
import { webhookRoutes } from './http/routes/webhooks/index.js';
import { userRoutes } from './http/routes/users/index.js';
import { RateLimits } from './rate-limit/index.js';
import { mcpEndpoint } from './mcp/endpoint.js';

export const API_PREFIX = '/api/v1';

/** The Koa app plus what must be stopped with it (the live event hub). */
export type ServiceMeowApp = Koa<AppState> & { shutdown(): Promise<void> };

export function createApp(deps: AppDeps): ServiceMeowApp {
  // The event hub opens its own connection: fail here, not on the first subscriber.
  if (!deps.config.databaseUrl) throw new Error('createApp needs config.databaseUrl (the connection in use)');
  // Behind exactly one proxy (nginx): the client address is the last X-Forwarded-For entry, the
  // one nginx appended — earlier entries are whatever the client sent.
  const app = new Koa<AppState>({ proxy: true, maxIpsCount: 1 });
  const limits = new RateLimits({ perMinute: deps.config.rateLimitPerMinute, redis: deps.redis, login: deps.tuning?.loginThrottle });
  const routeDeps: RouteDeps = { ...deps, limits, guard: [authenticate(deps), rateLimit(limits)] };
  const api = new ApiRouter(API_PREFIX);
  healthRoutes(api, deps);
  authRoutes(api, routeDeps);
  userRoutes(api, routeDeps);
  groupRoutes(api, routeDeps);
  slaRoutes(api, routeDeps);
  apiKeyRoutes(api, routeDeps);
  ticketRoutes(api, routeDeps);
  attachmentRoutes(api, routeDeps);
  dashboardRoutes(api, routeDeps);
  webhookRoutes(api, routeDeps);
  // Listens only once someone subscribes; the API's only long-lived database connection.
  const hub = new EventHub(deps.db, deps.config.databaseUrl, deps.logger, { heartbeatMs: deps.tuning?.stream?.heartbeatMs, revalidateMs: deps.tuning?.stream?.revalidateMs });
  eventRoutes(api, routeDeps, hub);
  const metrics = createMetrics(deps.db, hub);
  metricsRoutes(api, metrics);
  const openapi = api.document({
    title: 'ServiceMeow API',
    version: '0.1.0',
    description: 'Case management where every ticket is a durable Temporal workflow.',
  });
  api.router.get('/openapi.json', (ctx) => {
    ctx.body = openapi;
  });

  app.use(requestId(deps.logger));
  app.use(accessLog(metrics));
  // MCP answers in JSON-RPC terms, so it sits before the REST error renderer and body parser
  app.use(mcpEndpoint(routeDeps));
  app.use(errorHandler());
  app.use(
    koaBody({ json: true, urlencoded: false, text: false, multipart: false, jsonLimit: '1mb', jsonStrict: true }),
  );
  app.use(api.router.routes());
  app.use(api.router.allowedMethods({ throw: true }));
  app.use(docsRouter().routes());
  return Object.assign(app, { shutdown: () => hub.close() });
}
