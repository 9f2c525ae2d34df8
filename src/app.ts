/**
 * createApp(deps): the Koa application with every middleware and router. It never listens: the API
 * process and the tests decide where it runs.
 */
import Koa from 'koa';
import { ApiRouter } from './http/api-router.js';
import type { AppDeps, AppState, RouteDeps } from './http/context.js';
import { accessLog } from './http/middlewares/access-log.js';
import { parseJsonBody } from './http/middlewares/body.js';
import { authenticate } from './http/middlewares/authenticate.js';
import { rateLimit } from './http/middlewares/rate-limit.js';
import { errorHandler } from './http/middlewares/error-handler.js';
import { requestId } from './http/middlewares/request-id.js';
import { refuseUnstorableText } from './http/middlewares/storable-text.js';
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
import { slaPreviewRoutes } from './http/routes/sla-preview/index.js';
import { slaRuleRoutes } from './http/routes/sla-rules/index.js';
import { attachmentRoutes } from './http/routes/attachments/index.js';
import { webhookRoutes } from './http/routes/webhooks/index.js';
import { userRoutes } from './http/routes/users/index.js';
import { RateLimits } from './rate-limit/index.js';
import { MCP_PATH, mcpEndpoint } from './mcp/endpoint.js';
import { oauthEndpoints } from './oauth/endpoints.js';

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
  slaPreviewRoutes(api, routeDeps);
  slaRuleRoutes(api, routeDeps);
  apiKeyRoutes(api, routeDeps);
  ticketRoutes(api, routeDeps);
  attachmentRoutes(api, routeDeps);
  dashboardRoutes(api, routeDeps);
  webhookRoutes(api, routeDeps);
  // Listens only once someone subscribes; the API's only long-lived database connection.
  const hub = new EventHub(deps.db, deps.config.databaseUrl, deps.logger, {
    heartbeatMs: deps.tuning?.stream?.heartbeatMs,
    revalidateMs: deps.tuning?.stream?.revalidateMs,
  });
  eventRoutes(api, routeDeps, hub);
  const metrics = createMetrics(deps.db, hub);
  hub.onFanOut = metrics.observeFanOut;
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
  // the MCP endpoint's OAuth authorization server: OAuth's JSON errors and HTML pages of its own
  app.use(oauthEndpoints(routeDeps, MCP_PATH));
  app.use(errorHandler());
  app.use(parseJsonBody());
  app.use(refuseUnstorableText());
  app.use(api.router.routes());
  // sets 405 / 501 with Allow; the error renderer turns them into envelopes
  app.use(api.router.allowedMethods());
  app.use(docsRouter().routes());
  // What Koa reports outside the renderer (a socket reset under a response, a client gone while
  // streaming): one JSON line with the request id, never Koa's default stack trace on stderr.
  app.on('error', (err: unknown, ctx?: { state?: Partial<AppState> }) => {
    const log = ctx?.state?.log ?? deps.logger;
    const code = (err as { code?: unknown })?.code;
    if (typeof code === 'string' && /^(E[A-Z]+|HPE_)/.test(code)) log.info({ err }, 'client connection lost');
    else log.error({ err }, 'request failed after its response began');
  });
  return Object.assign(app, { shutdown: () => hub.close() });
}
