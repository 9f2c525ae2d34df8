/** The worker's activities, built from explicit dependencies (no globals). */
import type { Db } from '../src/db/index.js';
import { createTicketActivities } from './tickets.js';

export interface ActivityDeps {
  db: Db;
}

export function createActivities(deps: ActivityDeps) {
  return { ...createTicketActivities(deps) };
}

export type Activities = ReturnType<typeof createActivities>;
