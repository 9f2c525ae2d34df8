import { z } from 'zod';
import { WEBHOOK_EVENT_TYPES, webhookCreator, webhookDeleter, webhookFinder, webhookLister, webhookSecretRotator, webhookUpdater } from '../../../commands/webhooks.js';
import { presentWebhook } from '../../../presenters/webhook.js';
import type { ApiRouter } from '../../api-router.js';
import type { RouteDeps } from '../../context.js';
import { PaginationQuery, Paginated, pageOf } from '../../pagination.js';
import { commandContext, IdParams, nonEmpty } from '../common.js';

const EventTypes = z
  .array(z.enum(['*', ...WEBHOOK_EVENT_TYPES]))
  .min(1)
  .max(WEBHOOK_EVENT_TYPES.length + 1)
  .describe('event types to receive, or ["*"] for all');

const fields = {
  url: z.url({ protocol: /^https?$/ }).max(2048),
  event_types: EventTypes,
  description: z.string().max(500),
  is_active: z.boolean(),
};

const WebhookCreateSchema = z
  .object({ url: fields.url, event_types: EventTypes.default(['*']), description: fields.description.default(''), is_active: fields.is_active.default(true) })
  .strict()
  .openapi('WebhookCreate');
const WebhookUpdateSchema = nonEmpty(z.object({ url: fields.url.optional(), event_types: EventTypes.optional(), description: fields.description.optional(), is_active: fields.is_active.optional() }).strict()).openapi('WebhookUpdate');

const WebhookSchema = z
  .object({
    id: z.uuid(),
    url: z.string(),
    event_types: z.array(z.string()),
    description: z.string(),
    is_active: z.boolean(),
    disabled_reason: z.string().nullable(),
    disabled_at: z.string().nullable(),
    created_by_id: z.uuid().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Webhook');
const WebhookWithSecretSchema = WebhookSchema.extend({ secret: z.string().describe('whsec_…: shown only now; verify signatures with it') }).openapi('WebhookWithSecret');

export function webhookRoutes(api: ApiRouter, deps: RouteDeps): void {
  const common = { tags: ['webhooks'], secured: true, before: deps.guard };

  api.route({
    ...common,
    method: 'post',
    path: '/webhooks',
    summary: 'Subscribe a URL to events (admin, manager); the signing secret is shown once',
    body: WebhookCreateSchema,
    responses: { 201: { description: 'Created', schema: WebhookWithSecretSchema }, 403: { description: 'Agents may not' } },
    handler: async (ctx, { body }) => {
      const { webhook, secret } = await webhookCreator(commandContext(ctx, deps), body);
      ctx.status = 201;
      ctx.set('Location', `/api/v1/webhooks/${webhook.id}`);
      ctx.body = { ...presentWebhook(webhook), secret };
    },
  });

  api.route({
    ...common,
    method: 'get',
    path: '/webhooks',
    summary: 'Webhook subscriptions (admin, manager)',
    query: PaginationQuery,
    responses: { 200: { description: 'A page of webhooks', schema: Paginated(WebhookSchema, 'WebhookPage') } },
    handler: async (ctx, { query }) => {
      const { results, total } = await webhookLister(commandContext(ctx, deps), query);
      ctx.body = pageOf(results.map(presentWebhook), total, query.page, query.page_size);
    },
  });

  api.route({
    ...common,
    method: 'get',
    path: '/webhooks/{id}',
    summary: 'A webhook subscription (admin, manager)',
    params: IdParams,
    responses: { 200: { description: 'The webhook', schema: WebhookSchema }, 404: { description: 'No such webhook' } },
    handler: async (ctx, { params }) => {
      ctx.body = presentWebhook(await webhookFinder(commandContext(ctx, deps), params.id));
    },
  });

  api.route({
    ...common,
    method: 'patch',
    path: '/webhooks/{id}',
    summary: 'Change URL, event types, description or active flag (re-activating clears a disable reason)',
    params: IdParams,
    body: WebhookUpdateSchema,
    responses: { 200: { description: 'Updated', schema: WebhookSchema }, 404: { description: 'No such webhook' } },
    handler: async (ctx, { params, body }) => {
      ctx.body = presentWebhook(await webhookUpdater(commandContext(ctx, deps), params.id, body));
    },
  });

  api.route({
    ...common,
    method: 'delete',
    path: '/webhooks/{id}',
    summary: 'Delete a subscription (admin, manager)',
    params: IdParams,
    responses: { 204: { description: 'Deleted' }, 404: { description: 'No such webhook' } },
    handler: async (ctx, { params }) => {
      await webhookDeleter(commandContext(ctx, deps), params.id);
      ctx.status = 204;
    },
  });

  api.route({
    ...common,
    method: 'post',
    path: '/webhooks/{id}/rotate-secret',
    summary: 'Replace the signing secret; the new one is shown once',
    params: IdParams,
    responses: { 200: { description: 'The webhook with its new secret', schema: WebhookWithSecretSchema }, 404: { description: 'No such webhook' } },
    handler: async (ctx, { params }) => {
      const { webhook, secret } = await webhookSecretRotator(commandContext(ctx, deps), params.id);
      ctx.body = { ...presentWebhook(webhook), secret };
    },
  });
}
