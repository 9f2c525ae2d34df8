/**
 * `/mcp`: Streamable HTTP, stateless (a fresh server and transport per request, closed with the
 * response), JSON responses. It answers for itself — JSON-RPC error bodies, never the REST error
 * envelope: authentication (API keys only: 401 with WWW-Authenticate), the same per-principal
 * rate limit as REST, body parsing, then `ctx.respond = false` and the SDK's transport takes over.
 */
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Middleware } from 'koa';
import { koaBody } from 'koa-body';
import { looksLikeApiKey } from '../auth/api-keys.js';
import { principalFromApiKey } from '../auth/principal.js';
import { AppError, translateOutage } from '../errors/index.js';
import type { AppState, RouteDeps } from '../http/context.js';
import { createMcpServer } from './server.js';

export const MCP_PATH = '/mcp';

// JSON-RPC: -32700 parse error, -32600 invalid request; -32000…-32099 are the server's own.
function reply(
  ctx: Parameters<Middleware<AppState>>[0],
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
) {
  ctx.status = status;
  for (const [k, v] of Object.entries(headers)) ctx.set(k, v);
  ctx.body = { jsonrpc: '2.0', error: { code, message }, id: null };
}

const CHALLENGE = 'Bearer realm="servicemeow-mcp"';

export function mcpEndpoint(deps: RouteDeps): Middleware<AppState> {
  const parseJson = koaBody({ json: true, urlencoded: false, text: false, multipart: false, jsonLimit: '1mb', jsonStrict: true });
  return async (ctx, next) => {
    if (ctx.path !== MCP_PATH) return next();
    if (ctx.method !== 'POST') {
      // stateless: no server-initiated stream (GET) and no session to end (DELETE)
      return reply(ctx, 405, -32000, 'Method not allowed: this MCP endpoint is stateless; send JSON-RPC with POST.', { Allow: 'POST' });
    }
    try {
      const apiKey = ctx.get('X-API-Key') || /^Bearer\s+(\S+)$/i.exec(ctx.get('Authorization'))?.[1];
      if (!apiKey)
        return reply(ctx, 401, -32001, 'Authentication required: send an API key as X-API-Key or Authorization: Bearer.', {
          'WWW-Authenticate': CHALLENGE,
        });
      if (!looksLikeApiKey(apiKey)) {
        return reply(
          ctx,
          401,
          -32001,
          'The MCP server accepts API keys (smk_…), not access tokens; create one with POST /api/v1/api-keys.',
          { 'WWW-Authenticate': `${CHALLENGE}, error="invalid_token"` },
        );
      }
      const principal = await principalFromApiKey(deps.db, apiKey);
      if (!principal)
        return reply(ctx, 401, -32001, 'The API key is invalid, expired or revoked.', {
          'WWW-Authenticate': `${CHALLENGE}, error="invalid_token"`,
        });

      const decision = await deps.limits.request(principal.key);
      ctx.set('RateLimit-Limit', String(decision.limit));
      ctx.set('RateLimit-Remaining', String(decision.remaining));
      ctx.set('RateLimit-Reset', String(decision.resetSeconds));
      ctx.set('RateLimit-Policy', `${decision.limit};w=60`);
      if (!decision.allowed) {
        return reply(
          ctx,
          429,
          -32002,
          `Rate limit of ${decision.limit} requests per minute reached; retry in ${decision.resetSeconds} s.`,
          { 'Retry-After': String(decision.resetSeconds) },
        );
      }

      try {
        await parseJson(ctx, async () => undefined);
      } catch (err) {
        const status = (err as { status?: number }).status === 413 ? 413 : 400;
        return reply(
          ctx,
          status,
          status === 413 ? -32600 : -32700,
          status === 413 ? 'The request body is larger than 1 MB.' : 'The body is not valid JSON.',
        );
      }

      const server = createMcpServer({ principal, requestId: ctx.state.requestId, deps, logger: ctx.state.log ?? deps.logger });
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      ctx.respond = false;
      ctx.res.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(ctx.req, ctx.res, ctx.request.body);
    } catch (err) {
      if (ctx.respond === false) throw err;
      const outage = translateOutage(err);
      if (outage instanceof AppError) return reply(ctx, outage.status, -32003, outage.message, outage.headers);
      (ctx.state.log ?? deps.logger).error({ err }, 'MCP request failed');
      return reply(ctx, 500, -32603, `Internal error (request id ${ctx.state.requestId}).`);
    }
  };
}
