/** Thin, idempotent adapters between the ticket workflow and the ticket-record commands. */
import { ApplicationFailure } from '@temporalio/activity';
import { insertTicketRecord, InvalidReferenceError } from '../src/commands/tickets/record.js';
import type { TicketCreateInput, TicketState } from '../workflows/definitions.js';
import type { ActivityDeps } from './index.js';

export function createTicketActivities({ db }: ActivityDeps) {
  return {
    /** Writes the ticket row, its audit entry and its event once; a retry returns the same row. */
    async createTicketRecord(input: TicketCreateInput): Promise<TicketState> {
      try {
        return await insertTicketRecord(db, input);
      } catch (err) {
        if (err instanceof InvalidReferenceError) {
          throw ApplicationFailure.create({ type: 'InvalidReference', message: err.message, nonRetryable: true });
        }
        throw err;
      }
    },
  };
}
