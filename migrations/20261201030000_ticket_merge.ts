/**
 * Merging tickets (workflows/mutations/merge.ts): the terminal status `merged`, the source's link to
 * its target (`merged_into`: `{id, ticketNumber, at}`) and the target's list of merged sources
 * (`merged_from`, oldest first). Both are written only by their own ticket's workflow.
 */
import type { Knex } from 'knex';

// frozen copies (a migration never changes once it has run)
const BEFORE = ['open', 'under_investigation', 'paused', 'resolved'];
const AFTER = [...BEFORE, 'merged'];

const statusCheck = (statuses: string[]) => `CHECK (status IN (${statuses.map((s) => `'${s}'`).join(', ')}))`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE tickets DROP CONSTRAINT tickets_status_check');
  await knex.raw(`ALTER TABLE tickets ADD CONSTRAINT tickets_status_check ${statusCheck(AFTER)}`);
  await knex.schema.alterTable('tickets', (t) => {
    t.jsonb('merged_into').nullable();
    t.jsonb('merged_from').notNullable().defaultTo('[]');
  });
}

export async function down(knex: Knex): Promise<void> {
  // a merged ticket is closed: the nearest status before merges is resolved
  await knex('tickets').where({ status: 'merged' }).update({ status: 'resolved' });
  await knex.schema.alterTable('tickets', (t) => {
    t.dropColumn('merged_from');
    t.dropColumn('merged_into');
  });
  await knex.raw('ALTER TABLE tickets DROP CONSTRAINT tickets_status_check');
  await knex.raw(`ALTER TABLE tickets ADD CONSTRAINT tickets_status_check ${statusCheck(BEFORE)}`);
}
