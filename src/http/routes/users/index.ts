import { userCreator, userFinder, userLister, userUpdater } from '../../../commands/users.js';
import { presentUser } from '../../../presenters/user.js';
import type { ApiRouter } from '../../api-router.js';
import type { RouteDeps } from '../../context.js';
import { Paginated, pageOf } from '../../pagination.js';
import { UserSchema } from '../auth/schema.js';
import { commandContext, IdParams } from '../common.js';
import { UserCreateSchema, UserListQuerySchema, UserUpdateSchema } from './schema.js';

export function userRoutes(api: ApiRouter, deps: RouteDeps): void {
  const common = { tags: ['users'], secured: true, before: deps.guard };

  api.route({
    ...common,
    method: 'post',
    path: '/users',
    operationId: 'createUser',
    summary: 'Create a user (admin)',
    body: UserCreateSchema,
    responses: {
      201: { description: 'Created', schema: UserSchema, headers: ['Location'] },
      403: { description: 'Not an admin' },
      409: { description: 'Username or e-mail taken' },
    },
    handler: async (ctx, { body }) => {
      const user = await userCreator(commandContext(ctx, deps), body);
      ctx.status = 201;
      ctx.set('Location', `/api/v1/users/${user.id}`);
      ctx.body = presentUser(user);
    },
  });

  api.route({
    ...common,
    method: 'get',
    path: '/users',
    operationId: 'listUsers',
    summary: 'List users (filter by role, active flag, group; search name, username, e-mail)',
    query: UserListQuerySchema,
    responses: { 200: { description: 'A page of users', schema: Paginated(UserSchema, 'UserPage') } },
    handler: async (ctx, { query }) => {
      const { results, total } = await userLister(commandContext(ctx, deps), query);
      ctx.body = pageOf(results.map(presentUser), total, query.page, query.page_size);
    },
  });

  api.route({
    ...common,
    method: 'get',
    path: '/users/{id}',
    operationId: 'getUser',
    summary: 'A user',
    params: IdParams,
    responses: { 200: { description: 'The user', schema: UserSchema }, 404: { description: 'No such user' } },
    handler: async (ctx, { params }) => {
      ctx.body = presentUser(await userFinder(commandContext(ctx, deps), params.id));
    },
  });

  api.route({
    ...common,
    method: 'patch',
    path: '/users/{id}',
    operationId: 'updateUser',
    summary: 'Update a user (admin): e-mail, name, role, active flag, password',
    params: IdParams,
    body: UserUpdateSchema,
    responses: {
      200: { description: 'Updated', schema: UserSchema },
      403: { description: 'Not an admin' },
      404: { description: 'No such user' },
      409: { description: 'E-mail taken, or the last active admin would be lost' },
    },
    handler: async (ctx, { params, body }) => {
      ctx.body = presentUser(await userUpdater(commandContext(ctx, deps), params.id, body));
    },
  });
}
