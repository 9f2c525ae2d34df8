/**
 * Each delivery row names, when written, the one workflow that runs it (`dispatch_key`: the
 * workflow ID of its event's fan-out, or of itself for tests and redeliveries), so whoever starts
 * it — the write that stored the event, a retry of that write, the reconciler — starts the same
 * workflow, and a delivery can never be run by two. A partial index finds rows no attempt touched.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('webhook_deliveries', (t) => {
    t.text('dispatch_key').nullable();
    t.index(['dispatch_key']);
  });
  await knex.raw(`CREATE INDEX webhook_deliveries_undispatched ON webhook_deliveries (created_at) WHERE status = 'pending' AND attempt_count = 0`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX webhook_deliveries_undispatched');
  await knex.schema.alterTable('webhook_deliveries', (t) => {
    t.dropIndex(['dispatch_key']);
    t.dropColumn('dispatch_key');
  });
}
