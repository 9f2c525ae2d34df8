/**
 * What operators do with deliveries (admins and managers): list an endpoint's deliveries, read one
 * with its attempts, send a `webhook.test` event, redeliver. Test and redelivery rows are written
 * first and their workflows started after the commit; a start that fails is made by the worker's
 * reconciler, so an accepted request is never lost.
 */
import { conflict, notFound } from '../errors/index.js';
import { envelope } from '../events/envelope.js';
import { insertEvent } from '../events/store.js';
import { WebhookDelivery, WebhookDeliveryAttempt } from '../models/index.js';
import { queueDeliveryTo, type Dispatch } from '../webhooks/deliveries.js';
import { startDeliveries, webhookTaskQueue } from '../webhooks/dispatch.js';
import type { CommandContext } from './context.js';
import { webhookFinder } from './webhooks.js';

type Ctx = Pick<CommandContext, 'principal' | 'db' | 'config' | 'temporal' | 'log'>;

/** A delivery with the type of its event (for lists) — the row plus `eventType`. */
export type DeliveryRow = WebhookDelivery & { eventType: string };

const withEventType = (ctx: Ctx) =>
  WebhookDelivery.query(ctx.db)
    .join('events', 'events.id', 'webhook_deliveries.event_id')
    .select('webhook_deliveries.*', 'events.type as eventType');

export async function deliveryLister(
  ctx: Ctx,
  webhookId: string,
  q: { page: number; page_size: number; status?: WebhookDelivery['status']; event_type?: string },
) {
  await webhookFinder(ctx, webhookId);
  const query = withEventType(ctx).where('webhook_deliveries.webhook_id', webhookId);
  if (q.status) query.where('webhook_deliveries.status', q.status);
  if (q.event_type) query.where('events.type', q.event_type);
  const page = await query
    .orderBy('webhook_deliveries.created_at', 'desc')
    .orderBy('webhook_deliveries.id', 'desc')
    .page(q.page - 1, q.page_size);
  return page as unknown as { results: DeliveryRow[]; total: number };
}

export async function deliveryFinder(ctx: Ctx, webhookId: string, deliveryId: string) {
  await webhookFinder(ctx, webhookId);
  const delivery = (await withEventType(ctx)
    .where({ 'webhook_deliveries.id': deliveryId, 'webhook_deliveries.webhook_id': webhookId })
    .first()) as DeliveryRow | undefined;
  if (!delivery) throw notFound('Delivery');
  const attempts = await WebhookDeliveryAttempt.query(ctx.db).where({ deliveryId }).orderBy('attempt_number');
  return { delivery, attempts };
}

/** Start it now; if Temporal cannot take it yet, the worker's reconciler will (the row is committed). */
async function dispatch(ctx: Ctx, queued: Dispatch): Promise<DeliveryRow> {
  await startDeliveries(ctx.temporal, webhookTaskQueue(ctx.config.temporal.taskQueue), [queued]).catch((err: unknown) =>
    ctx.log.warn({ err, deliveryIds: queued.deliveryIds }, 'webhook delivery not started now; the reconciler starts it'),
  );
  return (await withEventType(ctx).where('webhook_deliveries.id', queued.deliveryIds[0]!).first()) as DeliveryRow;
}

function requireActive(webhook: { isActive: boolean; disabledReason: string | null }): void {
  if (!webhook.isActive) {
    throw conflict(
      'webhook_disabled',
      `The webhook is disabled${webhook.disabledReason ? ` (${webhook.disabledReason})` : ''}; set is_active to true first.`,
    );
  }
}

/** Store a `webhook.test` event and deliver it to this endpoint only. */
export async function webhookTester(ctx: Ctx, webhookId: string): Promise<DeliveryRow> {
  const webhook = await webhookFinder(ctx, webhookId);
  requireActive(webhook);
  const queued = await ctx.db.transaction(async (trx) => {
    const event = envelope('webhook.test', {
      ticket: null,
      changes: {},
      actor: { type: ctx.principal.actorType, user_id: ctx.principal.user.id, api_key_id: ctx.principal.apiKeyId },
      webhook: { id: webhook.id }, // never the URL: it may carry a token, and stored events feed the stream
      message: 'A test event from ServiceMeow: if you can read this, your endpoint works.',
    });
    await insertEvent(trx, { id: event.id, type: event.type, ticketId: null, payload: event });
    return queueDeliveryTo(trx, webhook.id, event.id);
  });
  return dispatch(ctx, queued);
}

/**
 * Deliver a settled delivery's event again, as a new delivery (generation + 1) with a fresh
 * schedule; it keeps the event's `webhook-id`, so receivers that already have it drop the copy.
 */
export async function redeliverer(ctx: Ctx, webhookId: string, deliveryId: string): Promise<DeliveryRow> {
  const { delivery } = await deliveryFinder(ctx, webhookId, deliveryId);
  requireActive(await webhookFinder(ctx, webhookId));
  if (delivery.status === 'pending')
    throw conflict(
      'delivery_pending',
      'This delivery is still being attempted; redeliver it once it has succeeded, failed or been cancelled.',
    );
  const queued = await ctx.db.transaction(async (trx) => {
    // serialises redeliveries of one event to one endpoint: generations stay gapless and unique
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`${webhookId}:${delivery.eventId}`]);
    const { max } = (await trx('webhook_deliveries')
      .where({ webhook_id: webhookId, event_id: delivery.eventId })
      .max('generation as max')
      .first()) as { max: number };
    return queueDeliveryTo(trx, webhookId, delivery.eventId, max + 1);
  });
  return dispatch(ctx, queued);
}
