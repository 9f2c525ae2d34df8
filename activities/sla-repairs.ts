/** Thin adapters between the SLA repair workflow and src/commands/sla/repairs.ts. */
import {
  beginSlaRepair,
  recordSlaRepairProgress,
  retargetTicketSla,
  slaRepairPage,
  type SlaRepairProgress,
  type SlaRepairTarget,
} from '../src/commands/sla/repairs.js';
import type { Actor } from '../workflows/definitions.js';
import type { ActivityDeps } from './index.js';

export function createSlaRepairActivities({ db, temporal }: ActivityDeps) {
  return {
    /** Counts the tickets the repair will visit and records the total. */
    async beginSlaRepair(input: { repairId: string; policyKey: string; version: number }): Promise<number> {
      return beginSlaRepair(db, input.repairId, input.policyKey, input.version);
    },

    /** The next page of ticket ids still below the version. */
    async slaRepairPage(input: { policyKey: string; version: number; afterId: string | null; limit: number }): Promise<string[]> {
      return slaRepairPage(db, input.policyKey, input.version, input.afterId, input.limit);
    },

    /** One ticket's Update (idempotent: its id is the repair's, and a ticket on the version ignores it). */
    async retargetTicketSla(input: { repair: SlaRepairTarget & { repairId: string; actor: Actor }; ticketId: string }) {
      return retargetTicketSla(temporal, input.repair, input.ticketId);
    },

    /** The figures so far (absolute: a retry writes the same). */
    async recordSlaRepairProgress(input: { repairId: string; progress: SlaRepairProgress; finished: boolean }): Promise<void> {
      return recordSlaRepairProgress(db, input.repairId, input.progress, input.finished);
    },
  };
}
