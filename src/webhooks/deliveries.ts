/**
 * Webhook deliveries in the database. A delivery row is written for each stored event and each
 * active endpoint that subscribes to it, in the transaction that stores the event, so nothing
 * accepted can lose its deliveries; each row is then driven by a workflow of its own
 * (workflows/webhook-delivery.workflow.ts) whose activity calls `attemptDelivery` once per try.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { envelope, type EventEnvelope } from '../events/envelope.js';
import { insertEvent } from '../events/store.js';
import { admitAttempt, DEFAULT_ENDPOINT_BUDGET, dropExpiredLeases, holdEndpoint, releaseLease, type EndpointBudget } from './budget.js';
import { classify, delayBefore, parseRetryAfter } from './retries.js';
import { ATTEMPT_TIMEOUT_MS, sendAttempt, type AttemptResult } from './send.js';
import { signedHeaders } from './signing.js';

export interface DeliverySettings {
  allowPrivateNetworks: boolean;
  retryScheduleMs: number[];
  disableAfterMs: number;
  /** per-attempt budget; 15 s unless a test shortens it */
  attemptTimeoutMs?: number;
  /** each endpoint's share of the delivery slots (DEFAULT_ENDPOINT_BUDGET unless a test changes it) */
  endpointBudget?: EndpointBudget;
}

export class AttemptInterruptedError extends Error {
  override name = 'AttemptInterruptedError';
}

/** A `Retry-After` longer than this is read as this: an endpoint cannot park a delivery for months. */
export const RETRY_AFTER_CAP_MS = 24 * 60 * 60 * 1000;

/** One workflow's worth of deliveries: its ID and the delivery rows it runs. */
export interface Dispatch {
  workflowId: string;
  deliveryIds: string[];
}

/** An event's deliveries run in workflows of at most this many (each delivery its own activity). */
export const FAN_OUT_CHUNK = 100;

export const fanOutWorkflowId = (eventId: string, chunk: number) => `webhook-deliveries-${eventId}${chunk ? `-${chunk}` : ''}`;
export const singleDeliveryWorkflowId = (deliveryId: string) => `webhook-delivery-${deliveryId}`;

function groupByKey(rows: { id: string; dispatchKey: string }[]): Dispatch[] {
  const byKey = new Map<string, string[]>();
  for (const r of rows) byKey.set(r.dispatchKey, [...(byKey.get(r.dispatchKey) ?? []), r.id]);
  return [...byKey].map(([workflowId, deliveryIds]) => ({ workflowId, deliveryIds }));
}

/**
 * Queue a delivery of the event to every active endpoint subscribed to its type (explicitly or with
 * `*`): one row each, run together by the event's fan-out workflow (chunks of FAN_OUT_CHUNK).
 * `webhook.test` goes only where it is sent (see queueDeliveryTo).
 */
export async function queueDeliveries(trx: Knex | Knex.Transaction, event: { id: string; type: string }): Promise<Dispatch[]> {
  if (event.type === 'webhook.test') return [];
  const { rows } = await trx.raw<{ rows: { id: string; dispatch_key: string }[] }>(
    `INSERT INTO webhook_deliveries (webhook_id, event_id, dispatch_key)
     SELECT id, :event, 'webhook-deliveries-' || :event || CASE WHEN n / :chunk > 0 THEN '-' || CAST(n / :chunk AS text) ELSE '' END
       FROM (SELECT id, (row_number() OVER (ORDER BY id) - 1) AS n FROM webhooks
              WHERE is_active AND (event_types @> ARRAY[CAST(:type AS text)] OR event_types @> '{*}')) subscribed
     RETURNING id, dispatch_key`,
    { event: event.id, type: event.type, chunk: FAN_OUT_CHUNK },
  );
  return groupByKey(rows.map((r) => ({ id: r.id, dispatchKey: r.dispatch_key })));
}

/** One delivery of the event to one endpoint (`generation` > 0 for a redelivery), run on its own. */
export async function queueDeliveryTo(trx: Knex | Knex.Transaction, webhookId: string, eventId: string, generation = 0): Promise<Dispatch> {
  const id = randomUUID();
  const workflowId = singleDeliveryWorkflowId(id);
  await trx('webhook_deliveries').insert({ id, webhookId, eventId, generation, dispatchKey: workflowId });
  return { workflowId, deliveryIds: [id] };
}

/** Every row of the dispatches that have a row matching `where` (a workflow runs all of its rows). */
async function dispatchesWhere(db: Knex, where: (q: Knex.QueryBuilder) => Knex.QueryBuilder): Promise<Dispatch[]> {
  // a delivery its workflow has deferred (next_attempt_at set) is running, not stranded
  const keys = where(
    db('webhook_deliveries as d').where({ 'd.status': 'pending', 'd.attemptCount': 0 }).whereNull('d.nextAttemptAt'),
  ).distinct('d.dispatchKey');
  const rows: { id: string; dispatchKey: string }[] = await db('webhook_deliveries')
    .whereIn('dispatchKey', keys)
    .orderBy('id')
    .select('id', 'dispatchKey');
  return groupByKey(rows);
}

/**
 * The dispatches of the events with these dedupe keys that no attempt has touched yet: what a
 * retried write must (re)start, because its first run may have committed and died before that.
 */
export async function undispatchedDeliveries(db: Knex, dedupeKeys: string[]): Promise<Dispatch[]> {
  if (!dedupeKeys.length) return [];
  return dispatchesWhere(db, (q) => q.join('events as e', 'e.id', 'd.eventId').whereIn('e.dedupeKey', dedupeKeys));
}

/** Dispatches with a row never attempted and older than `olderThanMs`: the reconciler starts them. */
export async function strandedDeliveries(db: Knex, olderThanMs: number, limit = 500): Promise<Dispatch[]> {
  return dispatchesWhere(db, (q) => q.where('d.createdAt', '<', new Date(Date.now() - olderThanMs)).limit(limit));
}

/** How long settled deliveries and their attempts are kept for operators to read and redeliver. */
export const DELIVERY_LOG_RETENTION_MS = 30 * 24 * 3600e3;

/** Delete settled deliveries (with their attempts) finished longer ago than the retention, a batch at a time. */
export async function pruneDeliveries(db: Knex, retentionMs = DELIVERY_LOG_RETENTION_MS, batch = 1000): Promise<number> {
  await dropExpiredLeases(db);
  const old = db('webhook_deliveries')
    .whereNot({ status: 'pending' })
    .where('completedAt', '<', new Date(Date.now() - retentionMs))
    .limit(batch)
    .select('id');
  return db('webhook_deliveries').whereIn('id', old).delete();
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'cancelled';

export interface AttemptReport {
  /**
   * `missing`: the delivery (or its endpoint) was deleted; nothing more to do. `deferred`: no
   * attempt was made — the endpoint's budget is full or it asked to be left alone (Retry-After);
   * look again in `retryInMs`
   */
  status: DeliveryStatus | 'missing' | 'deferred';
  /** the attempt made now; absent when none was made (already settled, cancelled, missing) */
  attempt?: number;
  httpStatus?: number | null;
  error?: string | null;
  /** when status is pending or deferred: wait this long before the next attempt */
  retryInMs?: number;
  /** when deferred: why */
  deferredBy?: 'retry_after' | 'busy';
  /** deliveries of a `webhook.disabled` event this attempt caused: the caller starts them */
  queued: Dispatch[];
}

/** (knex maps result keys to camelCase) */
interface DeliveryRow {
  status: DeliveryStatus;
  attemptCount: number;
  webhookId: string;
  url: string;
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
  isActive: boolean;
  eventId: string;
  payload: EventEnvelope;
}

/** The envelope with its keys in their documented order (jsonb stores them sorted by length). */
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
 * secret (and, for a while after a rotation, the previous one too); `webhook-id` is the event id on
 * every attempt and redelivery. Goes out only within the endpoint's budget (see budget.ts); `tries`
 * is how often this delivery's activity has run (Temporal's attempt number), which paces a
 * deferred delivery's next look.
 */
export async function attemptDelivery(
  db: Knex,
  settings: DeliverySettings,
  deliveryId: string,
  opts: { signal?: AbortSignal; tries?: number } = {},
): Promise<AttemptReport> {
  const { signal } = opts;
  const row: DeliveryRow | undefined = await db('webhook_deliveries as d')
    .join('webhooks as w', 'w.id', 'd.webhook_id')
    .join('events as e', 'e.id', 'd.event_id')
    .where('d.id', deliveryId)
    .first(
      'd.status',
      'd.attemptCount',
      'd.webhookId',
      'w.url',
      'w.secret',
      'w.previousSecret',
      'w.previousSecretExpiresAt',
      'w.isActive',
      'e.id as eventId',
      'e.payload',
    );
  if (!row) return { status: 'missing', queued: [] };
  if (row.status !== 'pending') return { status: row.status, queued: [] };
  if (!row.isActive) {
    await settle(db, deliveryId, row.attemptCount, { status: 'cancelled', last_error: 'the endpoint was disabled' });
    return { status: 'cancelled', queued: [] };
  }

  const attemptBudgetMs = settings.attemptTimeoutMs ?? ATTEMPT_TIMEOUT_MS;
  const deferrals = Math.max(0, (opts.tries ?? 1) - 1 - row.attemptCount);
  const admission = await admitAttempt(
    db,
    settings.endpointBudget ?? DEFAULT_ENDPOINT_BUDGET,
    row.webhookId,
    deliveryId,
    attemptBudgetMs,
    deferrals,
  );
  if (!admission.admitted) {
    if (admission.reason === 'missing') return { status: 'missing', queued: [] };
    // when it looks again: for operators, and so the reconciler sees its workflow is running
    await db('webhook_deliveries')
      .where({ id: deliveryId, status: 'pending' })
      .update({ nextAttemptAt: new Date(Date.now() + admission.waitMs) });
    return { status: 'deferred', retryInMs: admission.waitMs, deferredBy: admission.reason, queued: [] };
  }
  try {
    return await attemptAdmitted(db, settings, row, deliveryId, signal);
  } catch (err) {
    // nothing was recorded (interrupted, or the database failed): give the slot back if we can
    await releaseLease(db, deliveryId).catch(() => undefined);
    throw err;
  }
}

/** The attempt itself, once admitted; records it and returns the lease in one transaction. */
async function attemptAdmitted(
  db: Knex,
  settings: DeliverySettings,
  row: DeliveryRow,
  deliveryId: string,
  signal: AbortSignal | undefined,
): Promise<AttemptReport> {
  const body = bodyOf(row.payload);
  const requestedAt = new Date();
  const stillHonoured =
    row.previousSecret && row.previousSecretExpiresAt && row.previousSecretExpiresAt > requestedAt ? [row.previousSecret] : [];
  const headers = signedHeaders(row.secret, row.eventId, requestedAt.getTime() / 1000, body, stillHonoured);
  const result = await sendAttempt(row.url, { ...headers }, body, {
    allowPrivateNetworks: settings.allowPrivateNetworks,
    timeoutMs: settings.attemptTimeoutMs,
    signal,
  });
  // cut off by our own shutdown: not the endpoint's failure, so not an attempt; Temporal retries it
  if (signal?.aborted) throw new AttemptInterruptedError(`attempt ${row.attemptCount + 1} interrupted: the worker is shutting down`);

  const attempt = row.attemptCount + 1;
  // a forbidden target is a setting to fix, not a passing fault: retrying cannot help
  const outcome = result.forbidden ? 'final' : classify(result.status);
  let error = errorOf(result);
  let status: DeliveryStatus = outcome === 'succeeded' ? 'succeeded' : 'failed';
  let retryInMs: number | null = null;
  let holdMs: number | null = null;
  if (outcome === 'retry') {
    const asked = parseRetryAfter(result.retryAfter, Date.now());
    holdMs = asked === null ? null : Math.min(asked, RETRY_AFTER_CAP_MS);
    retryInMs = delayBefore(settings.retryScheduleMs, attempt + 1, holdMs, Math.random());
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
    await releaseLease(trx, deliveryId);
    // Retry-After slows the endpoint, not only this delivery: every other one waits for it too
    if (holdMs) await holdEndpoint(trx, row.webhookId, holdMs);

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
async function settle(
  db: Knex | Knex.Transaction,
  id: string,
  seenAttempts: number,
  patch: Record<string, unknown> & { status: DeliveryStatus },
): Promise<void> {
  await db('webhook_deliveries')
    .where({ id, attempt_count: seenAttempts, status: 'pending' })
    .update({
      ...patch,
      ...(patch.status === 'pending' ? {} : { completed_at: db.fn.now(), next_attempt_at: null }),
      updated_at: db.fn.now(),
    });
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
): Promise<{ disabled: boolean; queued: Dispatch[] }> {
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

/** Cancel an endpoint's pending deliveries (but `except`, whose attempt is settling it). */
export async function cancelPendingDeliveries(
  trx: Knex | Knex.Transaction,
  webhookId: string,
  reason: string,
  except?: string,
): Promise<number> {
  const q = trx('webhook_deliveries').where({ webhookId, status: 'pending' });
  if (except) q.whereNot({ id: except });
  return q.update({ status: 'cancelled', nextAttemptAt: null, completedAt: trx.fn.now(), lastError: reason, updatedAt: trx.fn.now() });
}

/** Disable the endpoint and cancel its pending deliveries but `current` (which its attempt settles). */
async function disableWebhook(
  trx: Knex.Transaction,
  webhookId: string,
  reason: string,
  at: Date,
  current: string,
): Promise<{ disabled: boolean; queued: Dispatch[] }> {
  const [hook] = await trx('webhooks')
    .where({ id: webhookId, is_active: true })
    .update({ is_active: false, disabled_reason: reason, disabled_at: at, updated_at: at })
    .returning(['id']);
  if (!hook) return { disabled: true, queued: [] }; // already disabled by a concurrent attempt
  await cancelPendingDeliveries(trx, webhookId, reason, current);
  // the endpoint's id and the reason only: its URL may carry a token in its query string, and this
  // event goes to every `*` subscriber (who can look the endpoint up if allowed to)
  const event = envelope(
    'webhook.disabled',
    {
      ticket: null,
      changes: { is_active: { old: true, new: false } },
      actor: { type: 'system', user_id: null, api_key_id: null },
      webhook: { id: webhookId, disabled_reason: reason },
    },
    at,
  );
  await insertEvent(trx, { id: event.id, type: event.type, ticketId: null, payload: event, createdAt: at });
  return { disabled: true, queued: await queueDeliveries(trx, event) };
}
