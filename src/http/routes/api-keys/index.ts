import { z } from 'zod';
import { apiKeyCreator, apiKeyLister, apiKeyRevoker } from '../../../commands/api-keys.js';
import { presentApiKey } from '../../../presenters/api-key.js';
import type { ApiRouter } from '../../api-router.js';
import type { RouteDeps } from '../../context.js';
import { PaginationQuery, Paginated, QueryBoolean, pageOf } from '../../pagination.js';
import { commandContext, IdParams, Timestamp } from '../common.js';

const Scope = z.enum(['tickets:read', 'tickets:write', 'admin']);

export const ApiKeyCreateSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    scopes: z
      .array(Scope)
      .max(3)
      .default([])
      .transform((s) => [...new Set(s)]),
    expires_at: z.iso
      .datetime({ offset: true })
      .transform((v) => new Date(v))
      .refine((d) => d.getTime() > Date.now(), 'must be in the future')
      .nullable()
      .default(null),
  })
  .strict();

export const ApiKeySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    key_prefix: z.string(),
    user_id: z.uuid(),
    scopes: z.array(Scope),
    last_used_at: Timestamp.nullable(),
    expires_at: Timestamp.nullable(),
    revoked_at: Timestamp.nullable(),
    created_at: Timestamp,
  })
  .openapi('ApiKey');

const ApiKeyCreatedSchema = ApiKeySchema.extend({
  key: z.string().openapi({ description: 'The key itself: shown only in this response' }),
}).openapi('ApiKeyCreated');

export function apiKeyRoutes(api: ApiRouter, deps: RouteDeps): void {
  const common = { tags: ['api-keys'], secured: true, before: deps.guard };

  api.route({
    ...common,
    method: 'post',
    path: '/api-keys',
    operationId: 'createApiKey',
    summary: 'Create an API key for yourself (the key is shown once)',
    body: ApiKeyCreateSchema,
    responses: {
      201: { description: 'Created', schema: ApiKeyCreatedSchema },
      403: { description: 'A key needs the admin scope to manage keys (a scope your role may not grant is a 422)' },
    },
    handler: async (ctx, { body }) => {
      const { key, plain } = await apiKeyCreator(commandContext(ctx, deps), body);
      ctx.status = 201;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { ...presentApiKey(key), key: plain };
    },
  });

  api.route({
    ...common,
    method: 'get',
    path: '/api-keys',
    operationId: 'listApiKeys',
    summary: "List API keys: your own (admins: everyone's); metadata only",
    query: PaginationQuery.extend({ include_revoked: QueryBoolean.default(false) }),
    responses: {
      200: { description: 'A page of keys', schema: Paginated(ApiKeySchema, 'ApiKeyPage') },
      403: { description: 'A key needs the admin scope to manage keys' },
    },
    handler: async (ctx, { query }) => {
      const { results, total } = await apiKeyLister(commandContext(ctx, deps), query);
      ctx.body = pageOf(results.map(presentApiKey), total, query.page, query.page_size);
    },
  });

  api.route({
    ...common,
    method: 'delete',
    path: '/api-keys/{id}',
    operationId: 'revokeApiKey',
    summary: 'Revoke an API key (immediate)',
    params: IdParams,
    responses: {
      204: { description: 'Revoked' },
      403: { description: 'A key needs the admin scope to manage keys' },
      404: { description: 'No such key (or not yours)' },
    },
    handler: async (ctx, { params }) => {
      await apiKeyRevoker(commandContext(ctx, deps), params.id);
      ctx.status = 204;
    },
  });
}
