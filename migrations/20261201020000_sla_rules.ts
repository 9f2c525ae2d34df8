/**
 * Issue 21 items 2 and 5. `sla_rules`: ordered conditional SLA policies (first match by position
 * wins; no match → the priority's row in `sla_policies`, the default policy). Each policy carries a
 * version (bumped on every edit) that a ticket's clocks record. `sla_repairs`: the progress of a
 * batch that applies an edited policy to the open tickets running on it.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('sla_rules', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('name').notNullable();
    t.integer('position').notNullable();
    // {groups?: uuid[], categories?: string[], tags_any?: string[], priorities?: priority[]}
    t.jsonb('conditions').notNullable().defaultTo('{}');
    // {critical?: {assign_target_seconds, resolve_target_seconds}, high?: …}
    t.jsonb('targets').notNullable();
    t.integer('at_risk_percent').notNullable().defaultTo(80);
    t.uuid('calendar_id').nullable().references('business_calendars.id').onDelete('RESTRICT');
    t.integer('version').notNullable().defaultTo(1);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('CREATE UNIQUE INDEX sla_rules_name_lower_unique ON sla_rules (lower(name))');
  // deferrable: a reorder rewrites every position in one transaction
  await knex.raw(`ALTER TABLE sla_rules
    ADD CONSTRAINT sla_rules_position_unique UNIQUE (position) DEFERRABLE INITIALLY IMMEDIATE,
    ADD CONSTRAINT sla_rules_at_risk_range CHECK (at_risk_percent BETWEEN 1 AND 99)`);

  await knex.schema.alterTable('sla_policies', (t) => {
    t.integer('version').notNullable().defaultTo(1);
  });

  await knex.schema.createTable('sla_repairs', (t) => {
    t.uuid('id').primary();
    // `default:<priority>` or the rule's id
    t.text('policy_key').notNullable();
    t.integer('policy_version').notNullable();
    t.text('status').notNullable().defaultTo('running');
    t.integer('total').nullable();
    t.integer('done').notNullable().defaultTo(0);
    t.integer('skipped').notNullable().defaultTo(0);
    t.integer('failed').notNullable().defaultTo(0);
    t.uuid('requested_by').nullable().references('users.id').onDelete('SET NULL');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('finished_at', { useTz: true }).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('sla_repairs');
  await knex.schema.alterTable('sla_policies', (t) => {
    t.dropColumn('version');
  });
  await knex.schema.dropTableIfExists('sla_rules');
}
