/** The worker's activities, built from explicit dependencies (no globals). */
import type { Client } from '@temporalio/client';
import type { Db } from '../src/db/index.js';
import type { DeliverySettings } from '../src/webhooks/deliveries.js';
import { createSlaRepairActivities } from './sla-repairs.js';
import { createTicketActivities } from './tickets.js';
import { createWebhookActivities } from './webhooks.js';

export interface ActivityDeps {
  db: Db;
  /** starts delivery workflows for the events the writes store */
  temporal: Client;
  webhooks: { settings: DeliverySettings; taskQueue: string };
}

export function createActivities(deps: ActivityDeps) {
  return { ...createTicketActivities(deps), ...createWebhookActivities(deps), ...createSlaRepairActivities(deps) };
}

export type Activities = ReturnType<typeof createActivities>;
