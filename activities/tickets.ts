/** Thin, idempotent adapters between the ticket workflow and the ticket-record commands. */
import { ApplicationFailure } from '@temporalio/activity';
import { insertTicketRecord, InvalidReferenceError, persistTicketMutation, type TicketMutation } from '../src/commands/tickets/record.js';
import { loadSlaTerms } from '../src/commands/sla/terms.js';
import type { TicketCreateInput, TicketPriority } from '../workflows/definitions.js';
import type { SlaTerms } from '../workflows/sla/clock.js';
import type { TicketSnapshot } from '../workflows/ticket-state.js';
import type { Dispatch } from '../src/webhooks/deliveries.js';
import { startDeliveries } from '../src/webhooks/dispatch.js';
import type { ActivityDeps } from './index.js';

export function createTicketActivities({ db, temporal, webhooks }: ActivityDeps) {
  /** After the commit: the deliveries of the events just stored (a refused duplicate start is fine). */
  const dispatch = (deliveries: Dispatch[]) => (deliveries.length ? startDeliveries(temporal, webhooks.taskQueue, deliveries) : Promise.resolve());

  return {
    /** Writes the ticket row, its audit entry and its event once; a retry returns the same row. */
    async createTicketRecord(input: TicketCreateInput): Promise<TicketSnapshot> {
      try {
        const { ticket, deliveries } = await insertTicketRecord(db, input);
        await dispatch(deliveries);
        return ticket;
      } catch (err) {
        if (err instanceof InvalidReferenceError) {
          throw ApplicationFailure.create({ type: 'InvalidReference', message: err.message, nonRetryable: true });
        }
        throw err;
      }
    },

    /** The SLA policy a ticket of this priority runs under now (read on priority change). */
    async loadSlaTerms(priority: TicketPriority): Promise<SlaTerms | null> {
      return loadSlaTerms(db, priority);
    },

    /** Applies one mutation of the given version exactly once (see persistTicketMutation). */
    async persistTicketMutation(m: TicketMutation): Promise<void> {
      await dispatch((await persistTicketMutation(db, m)).deliveries);
    },
  };
}
