import type { Middleware } from 'koa';
import { looksLikeApiKey } from '../../auth/api-keys.js';
import { principalFromApiKey, principalFromJwt } from '../../auth/principal.js';
import { unauthorized } from '../../errors/index.js';
import type { AppDeps, AppState } from '../context.js';

/** Requires a valid JWT (`Authorization: Bearer`) or API key (`X-API-Key` or Bearer `smk_…`). */
export function authenticate(deps: Pick<AppDeps, 'db' | 'config'>): Middleware<AppState> {
  return async (ctx, next) => {
    const apiKey = ctx.get('X-API-Key');
    const bearer = /^Bearer\s+(\S+)$/i.exec(ctx.get('Authorization'))?.[1];
    let principal = null;
    if (apiKey) principal = await principalFromApiKey(deps.db, apiKey);
    else if (bearer && looksLikeApiKey(bearer)) principal = await principalFromApiKey(deps.db, bearer);
    else if (bearer) principal = await principalFromJwt(deps.db, deps.config, bearer);
    else throw unauthorized();
    if (!principal)
      throw unauthorized('The credentials are invalid, expired or revoked.', { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
    ctx.state.principal = principal;
    await next();
  };
}
