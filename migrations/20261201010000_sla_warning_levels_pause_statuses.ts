/**
 * Issue 21, items 3 and 4: a ticket may wait on its customer (`waiting_on_customer`, a status
 * whose clocks the SLA policy may stop), and an SLA policy may carry several warning levels per
 * metric and the statuses that stop each clock. Both policy columns are NULL by default, which
 * means today's behaviour: the single `at_risk_percent` level, and `paused` stopping both clocks.
 */
import type { Knex } from 'knex';

const STATUS = 'waiting_on_customer';

/**
 * The values the status check allows now, read from the constraint itself: other migrations may
 * add statuses too, and each must keep the others' (a fixed list here would drop them).
 */
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
  await knex.schema.alterTable('sla_policies', (t) => {
    // {"assign": [{"percent": 50}, {"minutes_before": 10}], "resolve": [...]}; NULL = [{"percent": at_risk_percent}] each
    t.jsonb('warning_levels').nullable();
    // {"assign": ["paused"], "resolve": ["paused", "waiting_on_customer"]}; NULL = exactly that
    t.jsonb('pause_statuses').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  const waiting = await knex('tickets').where({ status: STATUS }).count<{ n: string }[]>({ n: '*' });
  if (Number(waiting[0]?.n ?? 0) > 0) throw new Error(`tickets are ${STATUS}: move them to another status before rolling back`);
  await setAllowedStatuses(
    knex,
    (await allowedStatuses(knex)).filter((s) => s !== STATUS),
  );
  await knex.schema.alterTable('sla_policies', (t) => {
    t.dropColumn('pause_statuses');
    t.dropColumn('warning_levels');
  });
}
