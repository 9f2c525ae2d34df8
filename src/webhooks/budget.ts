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

export const DEFAULT_ENDPOINT_BUDGET: EndpointBudget = { perEndpoint: 4, slowLane: 50, slowAfterMs: 2_000 };

/** Serialises admissions to the slow lane (a transaction-scoped advisory lock; any constant). */
const SLOW_LANE_LOCK = 0x5e41_0b07;

export type Admission =
  | { admitted: true }
  | { admitted: false; reason: 'retry_after' | 'busy'; waitMs: number }
  | { admitted: false; reason: 'missing' };

/** The wait before an attempt that found its endpoint busy looks again: 250 ms doubling to 5 s, ± 50 %. */
export function busyWaitMs(deferrals: number, random: number): number {
  const base = Math.min(250 * 2 ** Math.max(0, Math.min(deferrals, 5)), 5_000);
  return Math.round(base * (0.5 + random));
}

/**
 * Take a lease for this delivery's attempt on its endpoint, or say how long to wait. The lease
 * outlives the attempt's own budget by a margin (`leaseMs`) and is renewed, not doubled, when the
 * same delivery asks again (a retry after a crash). `deferrals`: how often this delivery has
 * already been turned away (paces its next look).
 */
export async function admitAttempt(
  db: Knex,
  budget: EndpointBudget,
  webhookId: string,
  deliveryId: string,
  leaseMs: number,
  deferrals: number,
): Promise<Admission> {
  return db.transaction(async (trx) => {
    // one admission at a time per endpoint: the count below cannot be raced
    const hook = (await trx('webhooks')
      .where({ id: webhookId })
      .forUpdate()
      .first(
        'failingSince',
        trx.raw(`GREATEST(0, CEIL(EXTRACT(EPOCH FROM (retry_after_until - now())) * 1000))::float8 AS "holdMs"`),
      )) as { failingSince: Date | null; holdMs: number | null } | undefined;
    if (!hook) return { admitted: false, reason: 'missing' };
    if (hook.holdMs) return { admitted: false, reason: 'retry_after', waitMs: hook.holdMs + Math.round(Math.random() * 500) };

    await trx('webhook_attempt_leases').where({ webhookId }).where('expiresAt', '<', trx.fn.now()).delete();
    const [held] = (await trx('webhook_attempt_leases')
      .where({ webhookId })
      .whereNot({ deliveryId })
      .select(
        trx.raw('COUNT(*)::int AS "count"'),
        trx.raw(`COUNT(*) FILTER (WHERE acquired_at < now() - make_interval(secs => ?))::int AS "old"`, [budget.slowAfterMs / 1000]),
      )) as unknown as { count: number; old: number }[];
    const slow = hook.failingSince !== null || held!.old > 0;
    const busy = { admitted: false as const, reason: 'busy' as const, waitMs: busyWaitMs(deferrals, Math.random()) };
    if (held!.count >= (slow ? 1 : budget.perEndpoint)) return busy;
    if (slow) {
      await trx.raw('SELECT pg_advisory_xact_lock(?)', [SLOW_LANE_LOCK]);
      const { rows } = await trx.raw<{ rows: { n: number }[] }>(
        `SELECT COUNT(*)::int AS n FROM webhook_attempt_leases l JOIN webhooks w ON w.id = l.webhook_id
          WHERE l.expires_at >= now() AND l.delivery_id <> ?
            AND (w.failing_since IS NOT NULL OR l.acquired_at < now() - make_interval(secs => ?))`,
        [deliveryId, budget.slowAfterMs / 1000],
      );
      if (rows[0]!.n >= budget.slowLane) return busy;
    }
    await trx.raw(
      `INSERT INTO webhook_attempt_leases (delivery_id, webhook_id, acquired_at, expires_at)
       VALUES (?, ?, now(), now() + make_interval(secs => ?))
       ON CONFLICT (delivery_id) DO UPDATE SET acquired_at = excluded.acquired_at, expires_at = excluded.expires_at`,
      [deliveryId, webhookId, leaseMs / 1000],
    );
    return { admitted: true };
  });
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
