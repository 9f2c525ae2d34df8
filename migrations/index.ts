/**
 * The ordered list of migrations, imported statically so they run the same under tsx, vitest and a
 * compiled build (knex's directory scan would import .ts files natively). Add new ones at the end.
 */
import type { Knex } from 'knex';
import * as initialSchema from './20261122000000_initial_schema.js';
import * as deliveryDispatch from './20261123000000_delivery_dispatch.js';
import * as ticketsUrgencyIndex from './20261123000100_tickets_urgency_index.js';
import * as webhookSecretRotation from './20261123000200_webhook_secret_rotation.js';
import * as webhookEndpointBudget from './20261129000300_webhook_endpoint_budget.js';
import * as eventsCommitOrder from './20261129160000_events_commit_order.js';
import * as oauth from './20261130030000_oauth.js';
import * as ticketsFilterStatistics from './20261130040000_tickets_filter_statistics.js';
import * as slaWarningLevelsPauseStatuses from './20261201010000_sla_warning_levels_pause_statuses.js';
import * as slaRules from './20261201020000_sla_rules.js';
import * as ticketMerge from './20261201030000_ticket_merge.js';
import * as slaRulesLevels from './20261201040000_sla_rules_levels_waiting_status.js';
import * as ticketsPageKeyIndex from './20261202010000_tickets_page_key_index.js';
import * as ticketsStatusPriorityIndex from './20261203010000_tickets_status_priority_index.js';

export interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

export const MIGRATIONS: ReadonlyArray<readonly [name: string, migration: Migration]> = [
  ['20261122000000_initial_schema', initialSchema],
  ['20261123000000_delivery_dispatch', deliveryDispatch],
  ['20261123000100_tickets_urgency_index', ticketsUrgencyIndex],
  ['20261123000200_webhook_secret_rotation', webhookSecretRotation],
  ['20261129000300_webhook_endpoint_budget', webhookEndpointBudget],
  ['20261129160000_events_commit_order', eventsCommitOrder],
  ['20261130030000_oauth', oauth],
  ['20261130040000_tickets_filter_statistics', ticketsFilterStatistics],
  ['20261201010000_sla_warning_levels_pause_statuses', slaWarningLevelsPauseStatuses],
  ['20261201020000_sla_rules', slaRules],
  ['20261201030000_ticket_merge', ticketMerge],
  ['20261201040000_sla_rules_levels_waiting_status', slaRulesLevels],
  ['20261202010000_tickets_page_key_index', ticketsPageKeyIndex],
  ['20261203010000_tickets_status_priority_index', ticketsStatusPriorityIndex],
];

/** knex's MigrationSource over MIGRATIONS. */
export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => MIGRATIONS.map(([name]) => name),
  getMigrationName: (name) => name,
  getMigration: async (name) => {
    const found = MIGRATIONS.find(([n]) => n === name);
    if (!found) throw new Error(`unknown migration ${name}`);
    return found[1];
  },
};
