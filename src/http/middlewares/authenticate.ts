import type { Middleware, ParameterizedContext } from 'koa';
import { looksLikeApiKey } from '../../auth/api-keys.js';
import { principalFromApiKey, principalFromJwt, principalFromOAuthToken, type Principal } from '../../auth/principal.js';
import { unauthorized } from '../../errors/index.js';
import { ACCESS_TOKEN_PREFIX } from '../../oauth/provider.js';
import type { AppDeps, AppState } from '../context.js';

/** What a transport accepts besides API keys: REST takes session JWTs, MCP takes OAuth tokens for its resource. */
export type Accepts = { jwt: true } | { oauthResource: string };

export type Resolution =
  | { principal: Principal }
  | { missing: true }
  /** a credential of a kind this transport does not take (the message says which to use) */
  | { wrongKind: true }
  | { invalid: true };

/**
 * The principal behind a request's credentials (`X-API-Key`, or `Authorization: Bearer` with an API
 * key, a session JWT or an OAuth access token): REST and MCP resolve callers here, the same way.
 */
export async function resolvePrincipal(
  deps: Pick<AppDeps, 'db' | 'config'>,
  ctx: ParameterizedContext,
  accepts: Accepts,
): Promise<Resolution> {
  const apiKey = ctx.get('X-API-Key');
  const bearer = /^Bearer\s+(\S+)$/i.exec(ctx.get('Authorization'))?.[1];
  let principal: Principal | null;
  if (apiKey) principal = await principalFromApiKey(deps.db, apiKey);
  else if (bearer && looksLikeApiKey(bearer)) principal = await principalFromApiKey(deps.db, bearer);
  else if (bearer && 'oauthResource' in accepts) {
    if (!bearer.startsWith(ACCESS_TOKEN_PREFIX)) return { wrongKind: true };
    principal = await principalFromOAuthToken(deps.db, bearer, accepts.oauthResource);
  } else if (bearer) principal = await principalFromJwt(deps.db, deps.config, bearer);
  else return { missing: true };
  return principal ? { principal } : { invalid: true };
}

/** Requires a valid JWT (`Authorization: Bearer`) or API key (`X-API-Key` or Bearer `smk_…`). */
export function authenticate(deps: Pick<AppDeps, 'db' | 'config'>): Middleware<AppState> {
  return async (ctx, next) => {
    const found = await resolvePrincipal(deps, ctx, { jwt: true });
    if ('missing' in found) throw unauthorized();
    if (!('principal' in found))
      throw unauthorized('The credentials are invalid, expired or revoked.', { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
    ctx.state.principal = found.principal;
    await next();
  };
}
