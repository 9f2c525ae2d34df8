/**
 * Each endpoint's own delivery budget, shared by every worker process: `webhook_attempt_leases`
 * holds one row per attempt in flight (its expiry frees it if the worker died mid-attempt), and
 * `webhooks.retry_after_until` is when the endpoint may be called again after it answered with
 * `Retry-After` — every delivery to it waits, not only the one that was answered. Also scrubs the
 * endpoint URL (which may carry a token) from stored `webhook.disabled` / `webhook.test` events.
 */
import type { Knex } from 'knex';

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
  await knex.raw(`UPDATE events SET payload = payload #- '{data,webhook,url}' WHERE type IN ('webhook.disabled', 'webhook.test') AND payload->'data'->'webhook'->>'url' IS NOT NULL`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('webhook_attempt_leases');
  await knex.schema.alterTable('webhooks', (t) => {
    t.dropColumn('retry_after_until');
  });
}
