import { issueRefreshToken, revokeByToken, rotateRefreshToken, type ClientMeta } from '../../../auth/refresh-tokens.js';
import { signAccessToken } from '../../../auth/tokens.js';
import { AppError, unauthorized } from '../../../errors/index.js';
import { checkCredentials } from '../../../commands/sign-in.js';
import { presentUser } from '../../../presenters/user.js';
import type { ApiRouter, Ctx } from '../../api-router.js';
import type { RouteDeps } from '../../context.js';
import { AuthLoginSchema, TokenSchema, UserSchema } from './schema.js';

export const REFRESH_COOKIE = 'servicemeow_refresh';
const COOKIE_PATH = '/api/v1/auth';

function clientMeta(ctx: Ctx): ClientMeta {
  return { userAgent: ctx.get('User-Agent') || null, ip: ctx.ip || null };
}

/** httpOnly, Secure, SameSite=Strict, scoped to the auth routes. */
function setRefreshCookie(ctx: Ctx, value: string | null, days: number): void {
  // Behind TLS termination Koa may see plain HTTP; the cookie is Secure regardless.
  ctx.cookies.secure = true;
  ctx.cookies.set(REFRESH_COOKIE, value, {
    httpOnly: true,
    secure: true,
    sameSite: 'strict',
    path: COOKIE_PATH,
    maxAge: value ? days * 86_400_000 : 0,
    overwrite: true,
  });
}

export function authRoutes(api: ApiRouter, deps: RouteDeps): void {
  const days = deps.config.jwt.refreshTokenDays;

  api.route({
    method: 'post',
    path: '/auth/login',
    operationId: 'login',
    summary: 'Sign in: access token in the body, refresh token in an httpOnly cookie',
    tags: ['auth'],
    body: AuthLoginSchema,
    responses: {
      200: { description: 'Signed in', schema: TokenSchema, headers: ['Set-Cookie'] },
      401: { description: 'Wrong credentials (never says which part)' },
      429: { description: 'Too many failed attempts for this username or address' },
      503: { description: 'The database is unavailable: retry after `Retry-After` seconds' },
    },
    handler: async (ctx, { body }) => {
      const wait = await deps.limits.loginBlockedFor(body.username, ctx.ip);
      if (wait > 0) {
        throw new AppError(
          429,
          'login_throttled',
          `Too many failed sign-ins; try again in ${wait} s.`,
          { retry_after_seconds: wait },
          { 'Retry-After': String(wait) },
        );
      }
      const user = await checkCredentials(deps.db, body.username, body.password);
      if (!user) {
        await deps.limits.loginFailed(body.username, ctx.ip);
        throw unauthorized('Invalid username or password.');
      }
      await deps.limits.loginSucceeded(body.username);
      const { token, expiresIn } = signAccessToken(deps.config, user);
      const refresh = await issueRefreshToken(deps.db, user.id, days, clientMeta(ctx));
      setRefreshCookie(ctx, refresh.plain, days);
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { access_token: token, token_type: 'bearer', expires_in: expiresIn };
    },
  });

  api.route({
    method: 'post',
    path: '/auth/refresh',
    operationId: 'refreshToken',
    summary: 'Exchange the refresh cookie for a new access token (the cookie rotates; reuse revokes the session)',
    tags: ['auth'],
    security: [{ refreshCookie: [] }],
    responses: {
      200: { description: 'Refreshed', schema: TokenSchema, headers: ['Set-Cookie'] },
      401: { description: 'Missing, expired, revoked or reused refresh token (the cookie is cleared)', headers: ['Set-Cookie'] },
      503: { description: 'The database is unavailable: retry after `Retry-After` seconds' },
    },
    handler: async (ctx) => {
      const plain = ctx.cookies.get(REFRESH_COOKIE);
      if (!plain) throw unauthorized('No refresh token: sign in with POST /api/v1/auth/login.');
      try {
        const { user, plain: next } = await rotateRefreshToken(deps.db, plain, days, clientMeta(ctx));
        const { token, expiresIn } = signAccessToken(deps.config, user);
        setRefreshCookie(ctx, next, days);
        ctx.set('Cache-Control', 'no-store');
        ctx.body = { access_token: token, token_type: 'bearer', expires_in: expiresIn };
      } catch (err) {
        // a refused token is cleared; an outage (503) is no verdict on it: the retry keeps the cookie
        if (err instanceof AppError && err.status === 401) setRefreshCookie(ctx, null, days);
        throw err;
      }
    },
  });

  api.route({
    method: 'post',
    path: '/auth/logout',
    operationId: 'logout',
    summary: 'Sign out: revokes the refresh token (and its whole session) and clears the cookie',
    tags: ['auth'],
    security: [{ refreshCookie: [] }, {}],
    responses: {
      204: { description: 'Signed out (also when already signed out)', headers: ['Set-Cookie'] },
      503: { description: 'The database is unavailable: retry after `Retry-After` seconds' },
    },
    handler: async (ctx) => {
      const plain = ctx.cookies.get(REFRESH_COOKIE);
      if (plain) await revokeByToken(deps.db, plain);
      setRefreshCookie(ctx, null, days);
      ctx.status = 204;
    },
  });

  api.route({
    method: 'get',
    path: '/auth/me',
    operationId: 'getCurrentUser',
    summary: 'The signed-in user',
    tags: ['auth'],
    secured: true,
    before: deps.guard,
    responses: { 200: { description: 'The current user', schema: UserSchema } },
    handler: async (ctx) => {
      ctx.body = presentUser(ctx.state.principal!.user);
    },
  });
}
