/**
 * Each endpoint's own delivery budget, shared by every worker process: `webhook_attempt_leases`
 * holds one row per attempt in flight (its expiry frees it if the worker died mid-attempt), and
 * `webhooks.retry_after_until` is when the endpoint may be called again after it answered with
 * `Retry-After` — every delivery to it waits, not only the one that was answered. Also scrubs the
 * endpoint URL (which may carry a token) from stored `webhook.disabled` / `webhook.test` events.
 */
import type { Knex } from 'knex';

/** Serialises admissions to the slow lane (a transaction-scoped advisory lock; any constant). */
const SLOW_LANE_LOCK = 0x5e410b07;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('webhooks', (t) => {
    t.timestamp('retry_after_until', { useTz: true }).nullable();
  });
  await knex.schema.createTable('webhook_attempt_leases', (t) => {
    t.uuid('delivery_id').primary().references('webhook_deliveries.id').onDelete('CASCADE');
    t.uuid('webhook_id').notNullable().references('webhooks.id').onDelete('CASCADE');
    t.timestamp('acquired_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.index(['webhook_id']);
  });
  // One round trip per admission (it runs for every attempt and every deferral, beside hundreds of
  // others, on a shared pool): lock the endpoint's row, drop its expired leases, count the live
  // ones, and take one if the budget allows. Verdicts: admitted, missing, retry_after (hold_ms to
  // wait), busy (a healthy endpoint at its cap), slow (a slow endpoint's one attempt is out;
  // oldest_age_ms: how long it has been), lane_full (slow endpoints hold the whole slow lane).
  await knex.raw(`
    CREATE FUNCTION webhook_admit_attempt(p_delivery uuid, p_webhook uuid, p_per_endpoint int, p_slow_lane int, p_slow_after_ms float8, p_lease_ms float8)
    RETURNS TABLE (verdict text, hold_ms float8, oldest_age_ms float8)
    LANGUAGE plpgsql AS $$
    DECLARE
      v_failing timestamptz;
      v_until timestamptz;
      v_count int;
      v_old int;
      v_oldest timestamptz;
      v_lane int;
      v_slow_before timestamptz := now() - p_slow_after_ms * interval '1 millisecond';
    BEGIN
      SELECT failing_since, retry_after_until INTO v_failing, v_until FROM webhooks WHERE id = p_webhook FOR UPDATE;
      IF NOT FOUND THEN
        RETURN QUERY SELECT 'missing'::text, 0::float8, 0::float8;
        RETURN;
      END IF;
      IF v_until > now() THEN
        RETURN QUERY SELECT 'retry_after'::text, (EXTRACT(EPOCH FROM (v_until - now())) * 1000)::float8, 0::float8;
        RETURN;
      END IF;
      DELETE FROM webhook_attempt_leases WHERE webhook_id = p_webhook AND expires_at < now();
      SELECT count(*), count(*) FILTER (WHERE acquired_at < v_slow_before), min(acquired_at) INTO v_count, v_old, v_oldest
        FROM webhook_attempt_leases WHERE webhook_id = p_webhook AND delivery_id <> p_delivery;
      IF v_failing IS NOT NULL OR v_old > 0 THEN
        IF v_count >= 1 THEN
          RETURN QUERY SELECT 'slow'::text, 0::float8, (EXTRACT(EPOCH FROM (now() - v_oldest)) * 1000)::float8;
          RETURN;
        END IF;
        PERFORM pg_advisory_xact_lock(${SLOW_LANE_LOCK});
        SELECT count(*) INTO v_lane FROM webhook_attempt_leases l JOIN webhooks w ON w.id = l.webhook_id
         WHERE l.expires_at >= now() AND l.delivery_id <> p_delivery AND (w.failing_since IS NOT NULL OR l.acquired_at < v_slow_before);
        IF v_lane >= p_slow_lane THEN
          RETURN QUERY SELECT 'lane_full'::text, 0::float8, 0::float8;
          RETURN;
        END IF;
      ELSIF v_count >= p_per_endpoint THEN
        RETURN QUERY SELECT 'busy'::text, 0::float8, 0::float8;
        RETURN;
      END IF;
      INSERT INTO webhook_attempt_leases (delivery_id, webhook_id, acquired_at, expires_at)
      VALUES (p_delivery, p_webhook, now(), now() + p_lease_ms * interval '1 millisecond')
      ON CONFLICT (delivery_id) DO UPDATE SET acquired_at = excluded.acquired_at, expires_at = excluded.expires_at;
      RETURN QUERY SELECT 'admitted'::text, 0::float8, 0::float8;
    END
    $$`);
  await knex.raw(
    `UPDATE events SET payload = payload #- '{data,webhook,url}' WHERE type IN ('webhook.disabled', 'webhook.test') AND payload->'data'->'webhook'->>'url' IS NOT NULL`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP FUNCTION webhook_admit_attempt(uuid, uuid, int, int, float8, float8)');
  await knex.schema.dropTable('webhook_attempt_leases');
  await knex.schema.alterTable('webhooks', (t) => {
    t.dropColumn('retry_after_until');
  });
}
