/**
 * Each endpoint's own delivery budget, kept in PostgreSQL so it holds across every worker process.
 * Before an attempt goes out it takes a lease (`webhook_attempt_leases`, one row per attempt in
 * flight, freed when the attempt is recorded or, if its worker died, when it expires). An attempt
 * that finds its endpoint's budget full — or the endpoint asked, with `Retry-After`, to be left
 * alone until later — takes no lease, makes no request and is not counted as an attempt: the
 * activity gives its slot back at once and Temporal runs it again after the wait this returns.
 * So an endpoint that hangs holds at most its own budget of delivery slots, however many
 * deliveries are waiting for it, and every other endpoint's deliveries go straight through.
 *
 * - an endpoint answering normally: at most `perEndpoint` attempts in flight at once;
 * - a *slow* endpoint (a run of failures, or an attempt in flight for longer than `slowAfterMs`):
 *   one at a time, and all slow endpoints together at most `slowLane` attempts, fleet-wide;
 * - `Retry-After` on any answer holds every delivery to that endpoint until then.
 */
import type { Knex } from 'knex';

export interface EndpointBudget {
  /** attempts one endpoint may have in flight at once, across all workers */
  perEndpoint: number;
  /** attempts in flight to slow endpoints, all of them together, across all workers */
  slowLane: number;
  /** an attempt in flight this long marks its endpoint as slow */
  slowAfterMs: number;
}

export const DEFAULT_ENDPOINT_BUDGET: EndpointBudget = { perEndpoint: 4, slowLane: 50, slowAfterMs: 15_000 };

export type Admission =
  { admitted: true } | { admitted: false; reason: 'retry_after' | 'busy'; waitMs: number } | { admitted: false; reason: 'missing' };

/** A lease outlives its attempt's budget by this much (time to record the attempt). */
export const LEASE_MARGIN_MS = 10_000;

/**
 * The wait before an attempt that found its endpoint busy looks again: 500 ms doubling to 8 s, ± 50 %
 * (each look is a task on the shared queue: looking often would slow everyone's first attempts).
 */
export function busyWaitMs(deferrals: number, random: number): number {
  const base = Math.min(500 * 2 ** Math.max(0, Math.min(deferrals, 4)), 8_000);
  return Math.round(base * (0.5 + random));
}

/**
 * The wait before a delivery to a slow endpoint looks again: until its oldest attempt in flight
 * must have ended (`attemptMs` after it started) — a slot of a hanging endpoint frees no sooner —
 * but at least 1 s and at most 5 s (an endpoint only briefly slow is not kept waiting long), ± 10 %.
 */
export function slowWaitMs(attemptMs: number, oldestAgeMs: number, random: number): number {
  return Math.round(Math.min(Math.max(attemptMs - oldestAgeMs, 1_000), 5_000) * (0.9 + 0.2 * random));
}

/**
 * Take a lease for this delivery's attempt on its endpoint, or say how long to wait: one call of
 * the `webhook_admit_attempt` SQL function (see its migration), which locks the endpoint's row for
 * the few microseconds it needs. The lease outlives the attempt's own budget (`attemptMs`) by
 * LEASE_MARGIN_MS and is renewed, not doubled, when the same delivery asks again (a retry after a
 * crash). `deferrals`: how often this delivery has already been turned away (paces its next look).
 */
export async function admitAttempt(
  db: Knex,
  budget: EndpointBudget,
  webhookId: string,
  deliveryId: string,
  attemptMs: number,
  deferrals: number,
): Promise<Admission> {
  const { rows } = await db.raw<{ rows: { verdict: string; hold_ms: number; oldest_age_ms: number }[] }>(
    'SELECT * FROM webhook_admit_attempt(?, ?, ?, ?, ?, ?)',
    [deliveryId, webhookId, budget.perEndpoint, budget.slowLane, budget.slowAfterMs, attemptMs + LEASE_MARGIN_MS],
  );
  const { verdict, hold_ms: holdMs, oldest_age_ms: oldestAgeMs } = rows[0]!;
  switch (verdict) {
    case 'admitted':
      return { admitted: true };
    case 'missing':
      return { admitted: false, reason: 'missing' };
    case 'retry_after':
      return { admitted: false, reason: 'retry_after', waitMs: Math.ceil(holdMs) + Math.round(Math.random() * 500) };
    case 'slow':
      return { admitted: false, reason: 'busy', waitMs: slowWaitMs(attemptMs, oldestAgeMs, Math.random()) };
    case 'lane_full':
      return { admitted: false, reason: 'busy', waitMs: Math.max(busyWaitMs(deferrals, Math.random()), 1_000) };
    default:
      return { admitted: false, reason: 'busy', waitMs: busyWaitMs(deferrals, Math.random()) };
  }
}

/** Give the lease back (in the transaction that records the attempt, or on its own when none is recorded). */
export async function releaseLease(db: Knex | Knex.Transaction, deliveryId: string): Promise<void> {
  await db('webhook_attempt_leases').where({ deliveryId }).delete();
}

/** An endpoint that answered with `Retry-After`: no delivery to it is attempted before then. */
export async function holdEndpoint(trx: Knex | Knex.Transaction, webhookId: string, forMs: number): Promise<void> {
  await trx.raw(
    `UPDATE webhooks SET retry_after_until = GREATEST(COALESCE(retry_after_until, now()), now() + make_interval(secs => ?)) WHERE id = ?`,
    [forMs / 1000, webhookId],
  );
}

/** Leases of attempts whose worker died (housekeeping; admissions also drop their endpoint's). */
export async function dropExpiredLeases(db: Knex): Promise<number> {
  return db('webhook_attempt_leases').where('expiresAt', '<', db.fn.now()).delete();
}
