/**
 * The live stream's order (src/events/hub.ts): each event records the id of the transaction that
 * wrote it (`xid8`, PostgreSQL 13+). Every transaction whose id is below the current snapshot's
 * xmin has finished, so events are delivered in (txid, seq) order up to that horizon — never past
 * an event that may still commit. Rows stored before this migration get txid 0: they sort first,
 * in seq order. The constant default then the volatile one avoids rewriting the table.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE events ADD COLUMN txid xid8 NOT NULL DEFAULT '0'`);
  await knex.raw('ALTER TABLE events ALTER COLUMN txid SET DEFAULT pg_current_xact_id()');
  await knex.raw('CREATE INDEX events_txid_seq_idx ON events (txid, seq)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX events_txid_seq_idx');
  await knex.raw('ALTER TABLE events DROP COLUMN txid');
}
