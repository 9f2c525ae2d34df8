/** Thin, idempotent adapters between the ticket workflow and the ticket-record store (src/store/ticket-records.ts). */
import { insertTicketRecord, persistTicketMutation, type TicketMutation } from '../src/store/ticket-records.js';
import { loadSlaTerms } from '../src/store/sla-terms.js';
import { matchSlaTerms } from '../src/commands/sla/rules.js';
import type { SlaMatchInput } from '../workflows/sla/match.js';
import { absorbTicket } from '../src/commands/tickets/absorb.js';
import type { TicketCreateInput, TicketPriority } from '../workflows/definitions.js';
import type { CrossTicketStep } from '../workflows/mutations/index.js';
import type { SlaTerms } from '../workflows/sla/clock.js';
import type { TicketSnapshot } from '../workflows/ticket-state.js';
import type { Dispatch } from '../src/webhooks/deliveries.js';
import { startDeliveries } from '../src/webhooks/dispatch.js';
import type { ActivityDeps } from './index.js';
import { writeOrFail } from './write-failures.js';

export function createTicketActivities({ db, temporal, webhooks }: ActivityDeps) {
  /** After the commit: the deliveries of the events just stored (a refused duplicate start is fine). */
  const dispatch = (deliveries: Dispatch[]) =>
    deliveries.length ? startDeliveries(temporal, webhooks.taskQueue, deliveries) : Promise.resolve();

  return {
    /**
     * Writes the ticket row, its audit entry and its event once; a retry returns the same row.
     * Data the database refuses for good fails non-retryable (see write-failures.ts).
     */
    async createTicketRecord(input: TicketCreateInput): Promise<TicketSnapshot> {
      const { ticket, deliveries } = await writeOrFail({ ticketId: input.id, requestId: input.requestId, version: 1 }, () =>
        insertTicketRecord(db, input),
      );
      await dispatch(deliveries);
      return ticket;
    },

    /** The SLA policy a ticket of this priority runs under now (read on priority change). */
    async loadSlaTerms(priority: TicketPriority): Promise<SlaTerms | null> {
      return loadSlaTerms(db, priority);
    },

    /**
     * A merge's step on its target: the target's workflow records the source (an Update whose id is
     * one per source, so a retried attempt is answered, never applied twice). The target's refusal
     * is final (merge_refused); anything else is retried.
     */
    async absorbIntoTicket(step: CrossTicketStep): Promise<void> {
      await absorbTicket(temporal, db, step);
    },

    /** The SLA terms a ticket with these fields runs under now: the first matching SLA rule's, else its priority's policy. */
    async matchSlaTerms(input: SlaMatchInput): Promise<SlaTerms | null> {
      return matchSlaTerms(db, input);
    },

    /** Applies one mutation of the given version exactly once (see persistTicketMutation). */
    async persistTicketMutation(m: TicketMutation): Promise<void> {
      const { deliveries } = await writeOrFail(
        { ticketId: m.ticketId, requestId: m.requestId, updateId: m.updateId, version: m.version },
        () => persistTicketMutation(db, m),
      );
      await dispatch(deliveries);
    },
  };
}
