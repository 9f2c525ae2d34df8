/**
 * Each delivery row names, when written, the one workflow that runs it (`dispatch_key`: the
 * workflow ID of its event's fan-out, or of itself for tests and redeliveries), so whoever starts
 * it — the write that stored the event, a retry of that write, the reconciler — starts the same
 * workflow, and a delivery can never be run by two. Partial indexes find rows no attempt touched,
 * and pending rows.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('webhook_deliveries', (t) => {
    t.text('dispatch_key').nullable();
    t.index(['dispatch_key']);
  });
  await knex.raw(
    `CREATE INDEX webhook_deliveries_undispatched ON webhook_deliveries (created_at) WHERE status = 'pending' AND attempt_count = 0`,
  );
  // the pending ones are few among a month of settled logs: counted for /metrics and cancellations
  await knex.raw(`CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (webhook_id) WHERE status = 'pending'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX webhook_deliveries_pending');
  await knex.raw('DROP INDEX webhook_deliveries_undispatched');
  await knex.schema.alterTable('webhook_deliveries', (t) => {
    t.dropIndex(['dispatch_key']);
    t.dropColumn('dispatch_key');
  });
}
