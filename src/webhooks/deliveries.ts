/**
 * Webhook deliveries in the database. A delivery row is written for each stored event and each
 * active endpoint that subscribes to it, in the transaction that stores the event, so nothing
 * accepted can lose its deliveries; each row is then driven by a workflow of its own
 * (workflows/webhook-delivery.workflow.ts) whose activity calls `attemptDelivery` once per try.
 */
import type { Knex } from 'knex';
import { envelope, type EventEnvelope } from '../events/envelope.js';
import { insertEvent } from '../events/store.js';
import { classify, delayBefore, parseRetryAfter } from './retries.js';
import { sendAttempt, type AttemptResult } from './send.js';
import { signedHeaders } from './signing.js';

export interface DeliverySettings {
  allowPrivateNetworks: boolean;
  retryScheduleMs: number[];
  disableAfterMs: number;
  /** per-attempt budget; 15 s unless a test shortens it */
  attemptTimeoutMs?: number;
}

/** A `Retry-After` longer than this is read as this: an endpoint cannot park a delivery for months. */
export const RETRY_AFTER_CAP_MS = 24 * 60 * 60 * 1000;

/**
 * Queue a delivery of the event to every active endpoint subscribed to its type (explicitly or with
 * `*`). `webhook.test` goes only where it is sent (see queueDeliveryTo). Returns the new ids.
 */
export async function queueDeliveries(trx: Knex | Knex.Transaction, event: { id: string; type: string }): Promise<string[]> {
  if (event.type === 'webhook.test') return [];
  const { rows } = await trx.raw<{ rows: { id: string }[] }>(
    `INSERT INTO webhook_deliveries (webhook_id, event_id)
     SELECT id, ? FROM webhooks
      WHERE is_active AND (event_types @> ARRAY[?]::text[] OR event_types @> '{*}')
     RETURNING id`,
    [event.id, event.type],
  );
  return rows.map((r) => r.id);
}

/** One delivery of the event to one endpoint (`generation` > 0 for a redelivery). */
export async function queueDeliveryTo(trx: Knex | Knex.Transaction, webhookId: string, eventId: string, generation = 0): Promise<string> {
  const [row] = await trx('webhook_deliveries').insert({ webhook_id: webhookId, event_id: eventId, generation }).returning('id');
  return (row as { id: string }).id;
}

/**
 * Deliveries of the events with these dedupe keys that no attempt has touched yet: what a retried
 * write must (re)start, because its first attempt may have committed and died before starting them.
 */
export async function undispatchedDeliveries(db: Knex, dedupeKeys: string[]): Promise<string[]> {
  if (!dedupeKeys.length) return [];
  const rows: { id: string }[] = await db('webhook_deliveries as d')
    .join('events as e', 'e.id', 'd.event_id')
    .whereIn('e.dedupe_key', dedupeKeys)
    .where({ 'd.status': 'pending', 'd.attempt_count': 0 })
    .select('d.id');
  return rows.map((r) => r.id);
}

/** Pending deliveries never attempted and older than `olderThanMs`: the reconciler starts them again. */
export async function strandedDeliveries(db: Knex, olderThanMs: number, limit = 500): Promise<string[]> {
  const rows: { id: string }[] = await db('webhook_deliveries')
    .where({ status: 'pending', attempt_count: 0 })
    .where('created_at', '<', new Date(Date.now() - olderThanMs))
    .orderBy('created_at')
    .limit(limit)
    .select('id');
  return rows.map((r) => r.id);
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'cancelled';

export interface AttemptReport {
  /** `missing`: the delivery (or its endpoint) was deleted; nothing more to do */
  status: DeliveryStatus | 'missing';
  /** the attempt made now; absent when none was made (already settled, cancelled, missing) */
  attempt?: number;
  httpStatus?: number | null;
  error?: string | null;
  /** when status is pending: wait this long before the next attempt */
  retryInMs?: number;
  /** deliveries of a `webhook.disabled` event this attempt caused: the caller starts them */
  queued: string[];
}

/** (knex maps result keys to camelCase) */
interface DeliveryRow {
  status: DeliveryStatus;
  attemptCount: number;
  webhookId: string;
  url: string;
  secret: string;
  isActive: boolean;
  eventId: string;
  payload: EventEnvelope;
}

/** Seeds the envelope's key order (jsonb stores keys sorted by length). */
const bodyOf = (p: EventEnvelope) => JSON.stringify({ id: p.id, type: p.type, timestamp: p.timestamp, data: p.data });

function errorOf(result: AttemptResult): string | null {
  if (result.error) return result.error;
  if (result.status !== null && (result.status < 200 || result.status >= 300)) return `HTTP ${result.status}`;
  return null;
}

/**
 * Make the next attempt of a pending delivery and record it: the attempt row, the delivery's
 * state and schedule, and the endpoint's health (410 or nothing but failures for `disableAfterMs`
 * disables it, with a reason and a `webhook.disabled` event). Signs with the endpoint's current
 * secret; `webhook-id` is the event id on every attempt and redelivery.
 */
export async function attemptDelivery(db: Knex, settings: DeliverySettings, deliveryId: string): Promise<AttemptReport> {
  const row: DeliveryRow | undefined = await db('webhook_deliveries as d')
    .join('webhooks as w', 'w.id', 'd.webhook_id')
    .join('events as e', 'e.id', 'd.event_id')
    .where('d.id', deliveryId)
    .first('d.status', 'd.attemptCount', 'd.webhookId', 'w.url', 'w.secret', 'w.isActive', 'e.id as eventId', 'e.payload');
  if (!row) return { status: 'missing', queued: [] };
  if (row.status !== 'pending') return { status: row.status, queued: [] };
  if (!row.isActive) {
    await settle(db, deliveryId, row.attemptCount, { status: 'cancelled', last_error: 'the endpoint was disabled' });
    return { status: 'cancelled', queued: [] };
  }

  const body = bodyOf(row.payload);
  const requestedAt = new Date();
  const headers = signedHeaders(row.secret, row.eventId, requestedAt.getTime() / 1000, body);
  const result = await sendAttempt(row.url, { ...headers }, body, { allowPrivateNetworks: settings.allowPrivateNetworks, timeoutMs: settings.attemptTimeoutMs });

  const attempt = row.attemptCount + 1;
  // a forbidden target is a setting to fix, not a passing fault: retrying cannot help
  const outcome = result.forbidden ? 'final' : classify(result.status);
  let error = errorOf(result);
  let status: DeliveryStatus = outcome === 'succeeded' ? 'succeeded' : 'failed';
  let retryInMs: number | null = null;
  if (outcome === 'retry') {
    const asked = parseRetryAfter(result.retryAfter, Date.now());
    retryInMs = delayBefore(settings.retryScheduleMs, attempt + 1, asked === null ? null : Math.min(asked, RETRY_AFTER_CAP_MS), Math.random());
    if (retryInMs === null) error = `${error}; no retries left`;
    else status = 'pending';
  }

  return db.transaction(async (trx) => {
    await trx('webhook_delivery_attempts')
      .insert({
        delivery_id: deliveryId,
        attempt_number: attempt,
        requested_at: requestedAt,
        status_code: result.status,
        latency_ms: result.latencyMs,
        response_body: result.body,
        error,
      })
      .onConflict(['delivery_id', 'attempt_number'])
      .ignore();

    const health = await recordHealth(trx, settings, row, deliveryId, outcome === 'succeeded', outcome === 'gone', requestedAt);
    if (health.disabled && status === 'pending') {
      status = 'cancelled';
      retryInMs = null;
    }
    await settle(trx, deliveryId, row.attemptCount, {
      status,
      attempt_count: attempt,
      next_attempt_at: retryInMs === null ? null : new Date(Date.now() + retryInMs),
      last_status_code: result.status,
      last_latency_ms: result.latencyMs,
      last_error: error,
    });
    return {
      status,
      attempt,
      httpStatus: result.status,
      error,
      ...(retryInMs !== null ? { retryInMs } : {}),
      queued: health.queued,
    };
  });
}

/** Move a pending delivery on from `seenAttempts` (a no-op if another attempt got there first). */
async function settle(db: Knex | Knex.Transaction, id: string, seenAttempts: number, patch: Record<string, unknown> & { status: DeliveryStatus }): Promise<void> {
  await db('webhook_deliveries')
    .where({ id, attempt_count: seenAttempts, status: 'pending' })
    .update({ ...patch, ...(patch.status === 'pending' ? {} : { completed_at: db.fn.now(), next_attempt_at: null }), updated_at: db.fn.now() });
}

/**
 * A success ends the endpoint's run of failures; a failure starts one (or continues it). A 410, or
 * a run longer than `disableAfterMs`, disables the endpoint, cancels its other pending deliveries
 * and stores a `webhook.disabled` event (delivered to the other endpoints that subscribe to it).
 */
async function recordHealth(
  trx: Knex.Transaction,
  settings: DeliverySettings,
  row: DeliveryRow,
  deliveryId: string,
  succeeded: boolean,
  gone: boolean,
  at: Date,
): Promise<{ disabled: boolean; queued: string[] }> {
  if (succeeded) {
    await trx('webhooks').where({ id: row.webhookId }).whereNotNull('failing_since').update({ failing_since: null });
    return { disabled: false, queued: [] };
  }
  const [hook] = await trx('webhooks')
    .where({ id: row.webhookId })
    .update({ failing_since: trx.raw('COALESCE(failing_since, ?)', [at]) })
    .returning(['failingSince', 'isActive']);
  const failingSince = (hook as { failingSince: Date } | undefined)?.failingSince;
  let reason: string | null = null;
  if (gone) reason = 'The endpoint answered 410 Gone.';
  else if (failingSince && at.getTime() - failingSince.getTime() >= settings.disableAfterMs) {
    reason = `Every delivery attempt since ${failingSince.toISOString()} failed.`;
  }
  if (!reason) return { disabled: false, queued: [] };
  return disableWebhook(trx, row.webhookId, reason, at, deliveryId);
}

/** Disable the endpoint and cancel its pending deliveries but `current` (which its attempt settles). */
async function disableWebhook(trx: Knex.Transaction, webhookId: string, reason: string, at: Date, current: string): Promise<{ disabled: boolean; queued: string[] }> {
  const [hook] = await trx('webhooks')
    .where({ id: webhookId, is_active: true })
    .update({ is_active: false, disabled_reason: reason, disabled_at: at, updated_at: at })
    .returning(['id', 'url']);
  if (!hook) return { disabled: true, queued: [] }; // already disabled by a concurrent attempt
  await trx('webhook_deliveries')
    .where({ webhook_id: webhookId, status: 'pending' })
    .whereNot({ id: current })
    .update({ status: 'cancelled', next_attempt_at: null, completed_at: at, last_error: reason, updated_at: at });
  const { id, url } = hook as { id: string; url: string };
  const event = envelope(
    'webhook.disabled',
    { ticket: null, changes: { is_active: { old: true, new: false } }, actor: { type: 'system', user_id: null, api_key_id: null }, webhook: { id, url, disabled_reason: reason } },
    at,
  );
  await insertEvent(trx, { id: event.id, type: event.type, ticketId: null, payload: event, createdAt: at });
  return { disabled: true, queued: await queueDeliveries(trx, event) };
}
