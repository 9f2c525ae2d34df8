/** The reconciler looks for deliveries no attempt has touched: a small partial index finds them. */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`CREATE INDEX webhook_deliveries_undispatched ON webhook_deliveries (created_at) WHERE status = 'pending' AND attempt_count = 0`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX webhook_deliveries_undispatched');
}
