/**
 * The target's side of a merge, run by the source workflow's activity: an `absorb` Update on the
 * target's workflow. Its id is one per source (`absorb-<source id>`), so an attempt retried after a
 * crash is answered by the target (its result, or "already recorded"), never applied twice.
 */
import type { Client } from '@temporalio/client';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import type { Knex } from 'knex';
import { Ticket } from '../../models/index.js';
import { absorbUpdate, ticketWorkflowId } from '../../../workflows/definitions.js';
import type { CrossTicketStep } from '../../../workflows/mutations/index.js';
import { TICKET_FAILURES } from '../../../workflows/vocabulary.js';

const refused = (message: string, details: Record<string, unknown>) =>
  ApplicationFailure.create({ type: TICKET_FAILURES.mergeRefused, message, details: [details], nonRetryable: true });

export async function absorbTicket(temporal: Client, db: Knex, step: CrossTicketStep): Promise<void> {
  const handle = temporal.workflow.getHandle(ticketWorkflowId(step.targetId));
  try {
    await handle.executeUpdate(absorbUpdate, { args: [step.request], updateId: step.request.requestId });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
      const failure = err.cause;
      if (failure.type === TICKET_FAILURES.mergeRefused)
        throw refused(failure.message, (failure.details?.[0] ?? {}) as Record<string, unknown>);
      if (failure.type === TICKET_FAILURES.ticketDeleted)
        throw refused('The target ticket was deleted; a ticket cannot be merged into it.', { reason: 'target_deleted' });
    }
    if (err instanceof WorkflowNotFoundError) {
      // the target's workflow ended (deleted or merged away): perhaps after recording this source
      const target = await Ticket.query(db).findById(step.targetId);
      if (target?.mergedFrom?.some((l) => l.id === step.request.source.id)) return;
      throw refused('The target ticket no longer takes changes (it was deleted or merged meanwhile).', {
        reason: target?.status === 'merged' ? 'target_merged' : 'target_deleted',
      });
    }
    throw err; // not answered (yet): retried
  }
}
