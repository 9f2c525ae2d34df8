/**
 * Issue 21, the three SLA parts together. SLA rules (conditional policies) carry warning levels and
 * pause statuses like the default policies (`sla_policies`, 20261201010000): the same two nullable
 * jsonb columns, NULL = today's behaviour. And `waiting_on_customer` is allowed again: the merge
 * migration (20261201030000) rewrote the status check from a frozen list written before that
 * status existed, so on a fresh database it dropped it. Read from the constraint, so that every
 * other status (e.g. `merged`) is kept.
 */
import type { Knex } from 'knex';

const STATUS = 'waiting_on_customer';

async function allowedStatuses(knex: Knex): Promise<string[]> {
  const { rows } = await knex.raw<{ rows: { def: string }[] }>(
    "SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'tickets'::regclass AND conname = 'tickets_status_check'",
  );
  return [...(rows[0]?.def ?? '').matchAll(/'([^']+)'::text/g)].map((m) => m[1]!);
}

async function setAllowedStatuses(knex: Knex, statuses: string[]): Promise<void> {
  const list = statuses.map((s) => knex.raw('?', [s]).toQuery()).join(', ');
  await knex.raw('ALTER TABLE tickets DROP CONSTRAINT IF EXISTS tickets_status_check');
  await knex.raw(`ALTER TABLE tickets ADD CONSTRAINT tickets_status_check CHECK (status IN (${list}))`);
}

export async function up(knex: Knex): Promise<void> {
  const statuses = await allowedStatuses(knex);
  if (!statuses.includes(STATUS)) await setAllowedStatuses(knex, [...statuses, STATUS]);
  await knex.schema.alterTable('sla_rules', (t) => {
    // as on sla_policies: {"assign": [{"percent": 50}, {"minutes_before": 10}], "resolve": [...]}; NULL = the single at-risk level
    t.jsonb('warning_levels').nullable();
    // {"assign": ["paused"], "resolve": ["paused", "waiting_on_customer"]}; NULL = exactly that
    t.jsonb('pause_statuses').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('sla_rules', (t) => {
    t.dropColumn('pause_statuses');
    t.dropColumn('warning_levels');
  });
  // the status itself goes with 20261201010000's rollback (which refuses while tickets wait on customers)
}
