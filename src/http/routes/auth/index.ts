import { burnPasswordCheck, verifyPassword } from '../../../auth/passwords.js';
import { signAccessToken } from '../../../auth/tokens.js';
import { unauthorized } from '../../../errors/index.js';
import { User } from '../../../models/index.js';
import { presentUser } from '../../../presenters/user.js';
import type { ApiRouter } from '../../api-router.js';
import type { AppDeps } from '../../context.js';
import { authenticate } from '../../middlewares/authenticate.js';
import { AuthLoginSchema, TokenSchema, UserSchema } from './schema.js';

export function authRoutes(api: ApiRouter, deps: AppDeps): void {
  api.route({
    method: 'post',
    path: '/auth/login',
    summary: 'Exchange a username and password for an access token',
    tags: ['auth'],
    body: AuthLoginSchema,
    responses: { 200: { description: 'Signed in', schema: TokenSchema }, 401: { description: 'Wrong credentials' } },
    handler: async (ctx, { body }) => {
      const user = await User.query(deps.db).whereRaw('lower(username) = lower(?)', [body.username]).first();
      // Same work and same answer whichever part was wrong.
      const ok = user ? (await verifyPassword(user.passwordHash, body.password)) && user.isActive : (await burnPasswordCheck(body.password), false);
      if (!ok || !user) throw unauthorized('Invalid username or password.');
      const { token, expiresIn } = signAccessToken(deps.config, user);
      ctx.body = { access_token: token, token_type: 'bearer', expires_in: expiresIn };
    },
  });

  api.route({
    method: 'get',
    path: '/auth/me',
    summary: 'The signed-in user',
    tags: ['auth'],
    secured: true,
    before: [authenticate(deps)],
    responses: { 200: { description: 'The current user', schema: UserSchema } },
    handler: async (ctx) => {
      ctx.body = presentUser(ctx.state.principal!.user);
    },
  });
}
