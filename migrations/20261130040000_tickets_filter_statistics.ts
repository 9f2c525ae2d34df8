/**
 * `GET /tickets` reports the planner's estimate as `total` beyond 10,000 matches
 * (src/commands/tickets/list.ts): multi-column statistics on the filters that are used together
 * keep that estimate close when they are correlated (status with priority, assignment with status),
 * instead of the product of each column's selectivity. Filled by ANALYZE (autovacuum).
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE STATISTICS tickets_status_priority_stats (mcv, dependencies) ON status, priority FROM tickets');
  await knex.raw('CREATE STATISTICS tickets_group_status_stats (dependencies) ON assigned_group_id, status FROM tickets');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP STATISTICS tickets_group_status_stats');
  await knex.raw('DROP STATISTICS tickets_status_priority_stats');
}
