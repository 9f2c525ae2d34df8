import { z } from 'zod';
import {
  DEFAULT_KEEP_OLD_SECRET_HOURS,
  webhookCreator,
  webhookDeleter,
  webhookFinder,
  webhookLister,
  webhookSecretRotator,
  webhookUpdater,
} from '../../../commands/webhooks.js';
import { deliveryFinder, deliveryLister, redeliverer, webhookTester, type DeliveryRow } from '../../../commands/webhook-deliveries.js';
import { presentAttempt, presentDelivery, presentWebhook } from '../../../presenters/webhook.js';
import type { ApiRouter, Ctx } from '../../api-router.js';
import type { RouteDeps } from '../../context.js';
import { PaginationQuery, Paginated, pageOf } from '../../pagination.js';
import { commandContext, IdParams, nonEmpty, Timestamp } from '../common.js';
import { EVENT_TYPES } from '../../../../workflows/vocabulary.js';

const EventTypes = z
  .array(z.enum(['*', ...EVENT_TYPES]))
  .min(1)
  .max(EVENT_TYPES.length + 1)
  .describe('event types to receive, or ["*"] for all');

const fields = {
  url: z.url({ protocol: /^https?$/ }).max(2048),
  event_types: EventTypes,
  description: z.string().max(500),
  is_active: z.boolean(),
};

const WebhookCreateSchema = z
  .object({
    url: fields.url,
    event_types: EventTypes.default(['*']),
    description: fields.description.default(''),
    is_active: fields.is_active.default(true),
  })
  .strict();
const WebhookUpdateSchema = nonEmpty(
  z
    .object({
      url: fields.url.optional(),
      event_types: EventTypes.optional(),
      description: fields.description.optional(),
      is_active: fields.is_active.optional(),
    })
    .strict(),
);

const WebhookSchema = z
  .object({
    id: z.uuid(),
    url: z.string(),
    event_types: z.array(z.string()),
    description: z.string(),
    is_active: z.boolean(),
    disabled_reason: z.string().nullable(),
    disabled_at: Timestamp.nullable(),
    failing_since: Timestamp.nullable().describe('start of the current run of failed attempts; null after any success'),
    previous_secret_expires_at: Timestamp.nullable().describe(
      'after a rotation: until when the previous secret still signs beside the new one',
    ),
    created_by_id: z.uuid().nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('Webhook');
const RotateSchema = z
  .object({
    keep_old_for_hours: z
      .number()
      .int()
      .min(0)
      .max(168)
      .default(DEFAULT_KEEP_OLD_SECRET_HOURS)
      .describe('how long the old secret keeps signing beside the new one; 0 stops it at once (a leaked secret)'),
  })
  .strict()
  .optional();

const DeliverySchema = z
  .object({
    id: z.uuid(),
    webhook_id: z.uuid(),
    event_id: z.string().describe('evt_…, also the webhook-id header of every attempt'),
    event_type: z.string(),
    status: z.enum(['pending', 'succeeded', 'failed', 'cancelled']),
    attempt_count: z.number().int(),
    next_attempt_at: Timestamp.nullable(),
    last_status_code: z.number().int().nullable(),
    last_latency_ms: z.number().int().nullable(),
    last_error: z.string().nullable(),
    generation: z.number().int().describe('0 for the first delivery of the event, +1 per redelivery'),
    created_at: Timestamp,
    completed_at: Timestamp.nullable(),
  })
  .openapi('WebhookDelivery');
const AttemptSchema = z
  .object({
    attempt_number: z.number().int(),
    requested_at: Timestamp,
    status_code: z.number().int().nullable().describe('null when no response came'),
    latency_ms: z.number().int().nullable(),
    response_body: z.string().nullable().describe('the first 1 KiB of the response'),
    error: z.string().nullable(),
  })
  .openapi('WebhookDeliveryAttempt');
const DeliveryDetailSchema = DeliverySchema.extend({ attempts: z.array(AttemptSchema) }).openapi('WebhookDeliveryDetail');
const DeliveryQuery = PaginationQuery.extend({
  status: z.enum(['pending', 'succeeded', 'failed', 'cancelled']).optional(),
  event_type: z.enum([...EVENT_TYPES]).optional(),
});
const DeliveryParams = z.object({ id: z.uuid(), delivery_id: z.uuid() });

const WebhookWithSecretSchema = WebhookSchema.extend({
  secret: z.string().describe('whsec_…: shown only now; verify signatures with it'),
}).openapi('WebhookWithSecret');

/** 202 with the queued delivery and where to watch it. */
function queued(ctx: Ctx, delivery: DeliveryRow): void {
  ctx.status = 202;
  ctx.set('Location', `/api/v1/webhooks/${delivery.webhookId}/deliveries/${delivery.id}`);
  ctx.body = presentDelivery(delivery);
}

export function webhookRoutes(api: ApiRouter, deps: RouteDeps): void {
  const common = { tags: ['webhooks'], secured: true, before: deps.guard };
  const forbidden = { 403: { description: 'Admins and managers only (API keys need the admin scope)' } };

  api.route({
    ...common,
    method: 'post',
    path: '/webhooks',
    operationId: 'createWebhook',
    summary: 'Subscribe a URL to events (admin, manager); the signing secret is shown once',
    body: WebhookCreateSchema,
    responses: { ...forbidden, 201: { description: 'Created', schema: WebhookWithSecretSchema, headers: ['Location'] } },
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
    operationId: 'listWebhooks',
    summary: 'Webhook subscriptions (admin, manager)',
    query: PaginationQuery,
    responses: { ...forbidden, 200: { description: 'A page of webhooks', schema: Paginated(WebhookSchema, 'WebhookPage') } },
    handler: async (ctx, { query }) => {
      const { results, total } = await webhookLister(commandContext(ctx, deps), query);
      ctx.body = pageOf(results.map(presentWebhook), total, query.page, query.page_size);
    },
  });

  api.route({
    ...common,
    method: 'get',
    path: '/webhooks/{id}',
    operationId: 'getWebhook',
    summary: 'A webhook subscription (admin, manager)',
    params: IdParams,
    responses: { ...forbidden, 200: { description: 'The webhook', schema: WebhookSchema }, 404: { description: 'No such webhook' } },
    handler: async (ctx, { params }) => {
      ctx.body = presentWebhook(await webhookFinder(commandContext(ctx, deps), params.id));
    },
  });

  api.route({
    ...common,
    method: 'patch',
    path: '/webhooks/{id}',
    operationId: 'updateWebhook',
    summary: 'Change URL, event types, description or active flag (re-activating clears a disable reason)',
    params: IdParams,
    body: WebhookUpdateSchema,
    responses: { ...forbidden, 200: { description: 'Updated', schema: WebhookSchema }, 404: { description: 'No such webhook' } },
    handler: async (ctx, { params, body }) => {
      ctx.body = presentWebhook(await webhookUpdater(commandContext(ctx, deps), params.id, body));
    },
  });

  api.route({
    ...common,
    method: 'delete',
    path: '/webhooks/{id}',
    operationId: 'deleteWebhook',
    summary: 'Delete a subscription (admin, manager)',
    params: IdParams,
    responses: { ...forbidden, 204: { description: 'Deleted' }, 404: { description: 'No such webhook' } },
    handler: async (ctx, { params }) => {
      await webhookDeleter(commandContext(ctx, deps), params.id);
      ctx.status = 204;
    },
  });

  api.route({
    ...common,
    method: 'post',
    path: '/webhooks/{id}/rotate-secret',
    operationId: 'rotateWebhookSecret',
    summary:
      'Replace the signing secret (shown once); the old one keeps signing beside it for keep_old_for_hours (default 24, 0 = stop now)',
    params: IdParams,
    body: RotateSchema,
    responses: {
      ...forbidden,
      200: { description: 'The webhook with its new secret', schema: WebhookWithSecretSchema },
      404: { description: 'No such webhook' },
    },
    handler: async (ctx, { params, body }) => {
      const { webhook, secret } = await webhookSecretRotator(commandContext(ctx, deps), params.id, body?.keep_old_for_hours);
      ctx.body = { ...presentWebhook(webhook), secret };
    },
  });

  api.route({
    ...common,
    method: 'post',
    path: '/webhooks/{id}/test',
    operationId: 'testWebhook',
    summary: 'Send a webhook.test event to this endpoint (only); watch it under deliveries',
    params: IdParams,
    responses: {
      ...forbidden,
      202: { description: 'Queued: the delivery, attempted at once', schema: DeliverySchema, headers: ['Location'] },
      404: { description: 'No such webhook' },
      409: { description: 'The webhook is disabled' },
    },
    handler: async (ctx, { params }) => {
      queued(ctx, await webhookTester(commandContext(ctx, deps), params.id));
    },
  });

  api.route({
    ...common,
    method: 'get',
    path: '/webhooks/{id}/deliveries',
    operationId: 'listWebhookDeliveries',
    summary: "An endpoint's deliveries, newest first: status, attempts, next attempt, last result",
    params: IdParams,
    query: DeliveryQuery,
    responses: {
      ...forbidden,
      200: { description: 'A page of deliveries', schema: Paginated(DeliverySchema, 'WebhookDeliveryPage') },
      404: { description: 'No such webhook' },
    },
    handler: async (ctx, { params, query }) => {
      const { results, total } = await deliveryLister(commandContext(ctx, deps), params.id, query);
      ctx.body = pageOf(results.map(presentDelivery), total, query.page, query.page_size);
    },
  });

  api.route({
    ...common,
    method: 'get',
    path: '/webhooks/{id}/deliveries/{delivery_id}',
    operationId: 'getWebhookDelivery',
    summary: 'One delivery with every attempt (status code, latency, first 1 KiB of the response, error)',
    params: DeliveryParams,
    responses: {
      ...forbidden,
      200: { description: 'The delivery', schema: DeliveryDetailSchema },
      404: { description: 'No such webhook or delivery' },
    },
    handler: async (ctx, { params }) => {
      const { delivery, attempts } = await deliveryFinder(commandContext(ctx, deps), params.id, params.delivery_id);
      ctx.body = { ...presentDelivery(delivery), attempts: attempts.map(presentAttempt) };
    },
  });

  api.route({
    ...common,
    method: 'post',
    path: '/webhooks/{id}/deliveries/{delivery_id}/redeliver',
    operationId: 'redeliverWebhookDelivery',
    summary: "Deliver a settled delivery's event again (same webhook-id, fresh schedule)",
    params: DeliveryParams,
    responses: {
      ...forbidden,
      202: { description: 'Queued: the new delivery', schema: DeliverySchema, headers: ['Location'] },
      404: { description: 'No such webhook or delivery' },
      409: { description: 'The delivery is still pending, or the webhook is disabled' },
    },
    handler: async (ctx, { params }) => {
      queued(ctx, await redeliverer(commandContext(ctx, deps), params.id, params.delivery_id));
    },
  });
}
