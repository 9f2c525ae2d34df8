/**
 * `/mcp`: Streamable HTTP, stateless (a fresh server and transport per request, closed with the
 * response), JSON responses. It answers for itself — JSON-RPC error bodies, never the REST error
 * envelope: authentication (API keys or OAuth access tokens bound to this endpoint: 401 with
 * WWW-Authenticate naming the RFC 9728 metadata), the same per-principal rate limit as REST, body parsing, then `ctx.respond = false` and the SDK's transport takes over.
 */
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Middleware } from 'koa';
import { koaBody } from 'koa-body';
import { AppError, translateOutage } from '../errors/index.js';
import type { AppState, RouteDeps } from '../http/context.js';
import { resolvePrincipal } from '../http/middlewares/authenticate.js';
import { spendRequest } from '../http/middlewares/rate-limit.js';
import { publicOrigin, resourceMetadataUrl } from '../oauth/endpoints.js';
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
      // The REST middleware's principal resolution and rate limit; answered in JSON-RPC terms.
      const origin = publicOrigin(ctx, deps.config.publicUrl);
      const challenge = `${CHALLENGE}, resource_metadata="${resourceMetadataUrl(origin, MCP_PATH)}"`;
      const found = await resolvePrincipal(deps, ctx, { oauthResource: `${origin}${MCP_PATH}` });
      if ('missing' in found)
        return reply(
          ctx,
          401,
          -32001,
          'Authentication required: sign in through OAuth (this 401 names the metadata) or send an API key as X-API-Key or Authorization: Bearer.',
          { 'WWW-Authenticate': challenge },
        );
      if ('wrongKind' in found) {
        return reply(
          ctx,
          401,
          -32001,
          'The MCP server accepts API keys (smk_…) and OAuth access tokens from its own authorization server, not REST session tokens; create a key with POST /api/v1/api-keys or sign in through OAuth.',
          { 'WWW-Authenticate': `${challenge}, error="invalid_token"` },
        );
      }
      if (!('principal' in found))
        return reply(ctx, 401, -32001, 'The API key or access token is invalid, expired or revoked, or was issued for another resource.', {
          'WWW-Authenticate': `${challenge}, error="invalid_token"`,
        });
      const principal = found.principal;

      const decision = await spendRequest(ctx, deps.limits, principal.key);
      if (!decision.allowed) {
        return reply(ctx, 429, -32002, `Rate limit of ${decision.limit} requests per minute reached; retry in ${decision.resetSeconds} s.`);
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
