/**
 * The authorization server's routes on Koa. The SDK's Express handlers (`/oauth/authorize`, `token`,
 * `register`, `revoke`) run on the raw request once Koa has recorded the public origin and spent the
 * caller's address budget (the REST limiter; the SDK's own per-IP limiter is off). The metadata
 * documents (RFC 8414, RFC 9728) and the consent page are Koa's, as they depend on the origin.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Middleware, ParameterizedContext } from 'koa';
import { authorizationHandler } from '@modelcontextprotocol/sdk/server/auth/handlers/authorize.js';
import { clientRegistrationHandler } from '@modelcontextprotocol/sdk/server/auth/handlers/register.js';
import { revocationHandler } from '@modelcontextprotocol/sdk/server/auth/handlers/revoke.js';
import { tokenHandler } from '@modelcontextprotocol/sdk/server/auth/handlers/token.js';
import type { OAuthMetadata, OAuthProtectedResourceMetadata } from '@modelcontextprotocol/sdk/shared/auth.js';
import { AppError, translateDbError, translateOutage } from '../errors/index.js';
import { findUnstorableText } from '../http/storable-text.js';
import type { AppState, RouteDeps } from '../http/context.js';
import { spendRequest } from '../http/middlewares/rate-limit.js';
import { consentHandlers } from './consent.js';
import {
  AS_METADATA_PATH,
  AUTHORIZE_PATH,
  CONSENT_PATH,
  REGISTER_PATH,
  RESOURCE_METADATA_PREFIX,
  REVOKE_PATH,
  TOKEN_PATH,
} from './paths.js';
import { OAUTH_SCOPES, ServiceMeowOAuthProvider } from './provider.js';
import { setRequestOrigin } from './request-scope.js';

type Ctx = ParameterizedContext<AppState>;

/**
 * The origin clients use: PUBLIC_URL, or the request's own (Koa trusts the one proxy in front for
 * X-Forwarded-Proto/Host). Not Koa 3's `ctx.origin`, which is the Origin header.
 */
export function publicOrigin(ctx: { protocol: string; host: string }, publicUrl: string | undefined): string {
  return publicUrl ?? `${ctx.protocol}://${ctx.host}`;
}

/** RFC 9728 §5.1: where a 401 from `resourcePath` points clients for its metadata. */
export function resourceMetadataUrl(origin: string, resourcePath: string): string {
  return `${origin}${RESOURCE_METADATA_PREFIX}${resourcePath}`;
}

export function authorizationServerMetadata(origin: string): OAuthMetadata {
  return {
    issuer: origin,
    authorization_endpoint: `${origin}${AUTHORIZE_PATH}`,
    token_endpoint: `${origin}${TOKEN_PATH}`,
    registration_endpoint: `${origin}${REGISTER_PATH}`,
    revocation_endpoint: `${origin}${REVOKE_PATH}`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none'],
    revocation_endpoint_auth_methods_supported: ['none'],
    scopes_supported: [...OAUTH_SCOPES],
    authorization_response_iss_parameter_supported: true,
    service_documentation: `${origin}/docs`,
  };
}

export function protectedResourceMetadata(origin: string, resourcePath: string): OAuthProtectedResourceMetadata {
  return {
    resource: `${origin}${resourcePath}`,
    authorization_servers: [origin],
    scopes_supported: [...OAUTH_SCOPES],
    bearer_methods_supported: ['header'],
    resource_name: 'ServiceMeow MCP server',
    resource_documentation: `${origin}/docs`,
  };
}

function oauthJson(ctx: Ctx, status: number, error: string, description: string): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { error, error_description: description };
}

/**
 * `resourcePath`: the protected resource (the MCP endpoint's path). Unrelated paths pass to `next`.
 */
export function oauthEndpoints(deps: RouteDeps, resourcePath: string): Middleware<AppState> {
  const provider = new ServiceMeowOAuthProvider({
    db: deps.db,
    config: deps.config,
    resourceOf: (origin) => `${origin}${resourcePath}`,
  });
  const consent = consentHandlers(deps, provider);

  const handlers = express();
  handlers.disable('x-powered-by');
  // An outage inside a handler is OAuth's `temporarily_unavailable`: answered 503 with Retry-After.
  handlers.use((_req: Request, res: Response, next: NextFunction) => {
    const json = res.json.bind(res);
    res.json = (body?: { error?: unknown }) => {
      if (body?.error === 'temporarily_unavailable') res.status(503).set('Retry-After', '5');
      return json(body);
    };
    next();
  });
  handlers.use(AUTHORIZE_PATH, authorizationHandler({ provider, rateLimit: false }));
  handlers.use(TOKEN_PATH, tokenHandler({ provider, rateLimit: false }));
  handlers.use(
    REGISTER_PATH,
    clientRegistrationHandler({ clientsStore: provider.clientsStore, rateLimit: false, clientSecretExpirySeconds: 0 }),
  );
  handlers.use(REVOKE_PATH, revocationHandler({ provider, rateLimit: false }));
  const sdkPaths = new Set([AUTHORIZE_PATH, TOKEN_PATH, REGISTER_PATH, REVOKE_PATH]);

  /** Hands the raw request to Express; resolves once the response is over. */
  const runSdkHandler = (ctx: Ctx) =>
    new Promise<void>((resolve) => {
      ctx.respond = false;
      ctx.res.once('close', resolve);
      handlers(ctx.req as Request, ctx.res as Response, (err?: unknown) => {
        // Express got nothing to do (no match) or a body it could not read: a 4xx, never its HTML error page.
        const e = err as { status?: number; type?: string } | undefined;
        const status = e?.status && e.status >= 400 && e.status < 500 ? e.status : err ? 400 : 404;
        if (ctx.res.headersSent) return void ctx.res.destroy();
        ctx.res.statusCode = status;
        ctx.res.setHeader('Content-Type', 'application/json; charset=utf-8');
        ctx.res.setHeader('Cache-Control', 'no-store');
        const description =
          status === 404 ? 'Not found.' : status === 413 ? 'The request body is too large.' : 'The request body could not be read.';
        ctx.res.end(JSON.stringify({ error: status === 404 ? 'not_found' : 'invalid_request', error_description: description }));
      });
    });

  return async (ctx, next) => {
    const path = ctx.path;
    const isResourceMetadata = path === RESOURCE_METADATA_PREFIX || path.startsWith(`${RESOURCE_METADATA_PREFIX}/`);
    if (path !== AS_METADATA_PATH && !isResourceMetadata && !path.startsWith('/oauth/')) return next();
    const known = path === AS_METADATA_PATH || isResourceMetadata || path === CONSENT_PATH || sdkPaths.has(path.replace(/\/$/, ''));
    (ctx as { _matchedRoute?: string })._matchedRoute = known ? path.replace(/\/$/, '') : 'unmatched';
    const origin = publicOrigin(ctx, deps.config.publicUrl);
    try {
      if (path === AS_METADATA_PATH || isResourceMetadata) {
        ctx.set('Access-Control-Allow-Origin', '*');
        if (ctx.method === 'OPTIONS') {
          ctx.set('Access-Control-Allow-Methods', 'GET, OPTIONS');
          ctx.status = 204;
          return;
        }
        if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
          ctx.set('Allow', 'GET, HEAD, OPTIONS');
          return oauthJson(ctx, 405, 'method_not_allowed', 'Use GET.');
        }
        // the resource's metadata: `/.well-known/oauth-protected-resource/mcp` (or the bare prefix)
        const suffix = path.slice(RESOURCE_METADATA_PREFIX.length);
        if (isResourceMetadata && suffix !== '' && suffix !== resourcePath)
          return oauthJson(ctx, 404, 'not_found', 'No such protected resource.');
        ctx.set('Cache-Control', 'public, max-age=300');
        ctx.body = isResourceMetadata ? protectedResourceMetadata(origin, resourcePath) : authorizationServerMetadata(origin);
        return;
      }
      if (!known) return oauthJson(ctx, 404, 'not_found', 'Not found.');
      const decision = await spendRequest(ctx, deps.limits, `oauth-ip:${ctx.ip}`);
      if (!decision.allowed) {
        return oauthJson(
          ctx,
          429,
          'too_many_requests',
          `Rate limit of ${decision.limit} requests per minute reached; retry in ${decision.resetSeconds} s.`,
        );
      }
      // text PostgreSQL cannot store (NUL, lone surrogates) in a parameter: refused before any lookup
      const unstorable = findUnstorableText(ctx.query, 'query');
      if (unstorable.length) {
        return oauthJson(ctx, 400, 'invalid_request', `${unstorable.map((u) => u.path).join(', ')}: ${unstorable[0]!.message}.`);
      }
      if (path === CONSENT_PATH) {
        if (ctx.method === 'GET' || ctx.method === 'HEAD') return await consent.show(ctx);
        if (ctx.method === 'POST') return await consent.submit(ctx, origin);
        ctx.set('Allow', 'GET, POST');
        return oauthJson(ctx, 405, 'method_not_allowed', 'Use GET or POST.');
      }
      setRequestOrigin(ctx.req, origin);
      await runSdkHandler(ctx);
    } catch (err) {
      if (ctx.respond === false) throw err;
      const outage = translateOutage(err);
      if (outage instanceof AppError && outage.status === 503) {
        for (const [k, v] of Object.entries(outage.headers)) ctx.set(k, v);
        return oauthJson(ctx, 503, 'temporarily_unavailable', outage.message);
      }
      const refused = translateDbError(err);
      if (refused instanceof AppError && refused.status < 500) return oauthJson(ctx, 400, 'invalid_request', refused.message);
      (ctx.state.log ?? deps.logger).error({ err }, 'OAuth request failed');
      return oauthJson(ctx, 500, 'server_error', `Internal error (request id ${ctx.state.requestId}).`);
    }
  };
}
