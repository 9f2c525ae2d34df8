/**
 * The one mapping from a ticket workflow's failures (a create's `created` update, every mutation
 * Update) to API errors. Each failure is listed once:
 *
 * | failure                                                      | answer                                  |
 * |--------------------------------------------------------------|-----------------------------------------|
 * | `invalid_transition` (workflows/ticket-state.ts)             | 409 `invalid_transition` (allowed ones) |
 * | `stale_version`                                              | 412 `precondition_failed`               |
 * | `ticket_deleted`                                             | 404 `not_found`                         |
 * | `ticket_merged` (the ticket was merged into another)         | 409 `ticket_merged` (`merged_into`)     |
 * | `merge_refused` (a merge the tickets' states forbid)         | 409 `merge_refused` (`reason`)          |
 * | `ticket_not_ready` (the create is still being written)       | 409 `ticket_not_ready`, Retry-After     |
 * | `ticket_draining` (the run is moving to a fresh one; mutate.ts retries it until its deadline) | 503 `change_not_applied`, Retry-After |
 * | `InvalidReference` (a group or user vanished before the write) | 422 `invalid_reference`               |
 * | `UnwritableChange` (data the database refuses for good)      | 422 `unprocessable_change`              |
 * | workflow not found / closed (deleted meanwhile, terminated)  | 409 `ticket_closed`                     |
 * | not accepted in time (workers busy or down)                  | 503 `change_not_confirmed`, Retry-After |
 * | refused by the engine (not by the ticket's rules, or too many updates in flight) | 503 `change_not_applied`, Retry-After |
 *
 * Temporal being unreachable is left to `translateOutage` (503 `temporal_unavailable`). An
 * application failure of any other type is a bug: it is returned as is (a logged 500).
 */
import { WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError, ServiceError } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import { AppError, conflict, notFound, preconditionFailed } from '../../errors/index.js';
import type { WriteFailureDetails } from '../../../workflows/definitions.js';
import { TICKET_FAILURES, type TicketFailureType } from '../../../workflows/vocabulary.js';

/** Seconds a client should wait before retrying an outage answer. */
const RETRY_AFTER = { 'Retry-After': '5' };

/** 503 `change_not_confirmed`: the Update was not accepted in time (it may still be). */
export const changeNotConfirmed = () =>
  new AppError(
    503,
    'change_not_confirmed',
    'The ticket did not confirm the change in time (its workers are busy or down); it may still be applied.',
    null,
    RETRY_AFTER,
  );

const changeNotApplied = () =>
  new AppError(
    503,
    'change_not_applied',
    'The ticket could not take the change right now; nothing was applied. Retry shortly.',
    null,
    RETRY_AFTER,
  );

const ticketClosed = () =>
  conflict(
    'ticket_closed',
    'The ticket no longer takes changes (it was deleted meanwhile, or its workflow was stopped by an operator); nothing was applied.',
  );

/** The server's failure type for an accepted Update whose workflow closed before it completed. */
const CLOSED_WORKFLOW = 'AcceptedUpdateCompletedWorkflow';

const WRITE_FAILURE_MESSAGES: Record<WriteFailureDetails['kind'], string> = {
  invalid_reference: 'A group or user the request names no longer exists; nothing was applied.',
  invalid_data:
    'The database cannot store a value of this request (e.g. a NUL character or a lone surrogate in a text); nothing was applied. Fix the text and retry.',
  constraint: 'The request breaks a rule of the stored data; nothing was applied.',
  limit: 'A value of this request is too large to store; nothing was applied. Shorten it and retry.',
  version_gap:
    'The ticket’s stored record is not at the version this change follows; nothing was applied (operators are alerted by the log and the write-failure metric).',
};

/** A failure the ticket's rules produced (validator or handler), by its type. */
function ruleFailure(failure: ApplicationFailure): AppError | null {
  const details = (failure.details?.[0] ?? {}) as Record<string, unknown>;
  const type = failure.type as TicketFailureType;
  switch (type) {
    case TICKET_FAILURES.invalidTransition:
      return conflict('invalid_transition', failure.message, details);
    case TICKET_FAILURES.staleVersion:
      return preconditionFailed(failure.message, details);
    case TICKET_FAILURES.ticketDeleted:
      return notFound('Ticket');
    case TICKET_FAILURES.ticketMerged:
      return conflict('ticket_merged', failure.message, details);
    case TICKET_FAILURES.mergeRefused:
      return conflict('merge_refused', failure.message, details);
    case TICKET_FAILURES.ticketNotReady:
      return new AppError(409, 'ticket_not_ready', failure.message, null, { 'Retry-After': '1' });
    case TICKET_FAILURES.ticketDraining:
      return changeNotApplied();
    case TICKET_FAILURES.invalidReference:
    case TICKET_FAILURES.unwritableChange: {
      const invalidReference = type === TICKET_FAILURES.invalidReference;
      const kind = (details as Partial<WriteFailureDetails>).kind ?? (invalidReference ? 'invalid_reference' : 'invalid_data');
      const code = invalidReference ? 'invalid_reference' : 'unprocessable_change';
      return new AppError(422, code, WRITE_FAILURE_MESSAGES[kind] ?? WRITE_FAILURE_MESSAGES.invalid_data, { kind });
    }
    default:
      return failure.type === CLOSED_WORKFLOW ? ticketClosed() : null;
  }
}

/** gRPC RESOURCE_EXHAUSTED: e.g. the limit of Updates in flight on one workflow. */
const GRPC_RESOURCE_EXHAUSTED = 8;

/**
 * Maps a failure of `executeUpdateWithStart`, `startUpdate` or an Update's result to an AppError;
 * anything it does not know is returned unchanged (outages are translated by the error renderer).
 */
export function ticketWorkflowError(err: unknown): unknown {
  if (err instanceof AppError) return err;
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return changeNotConfirmed();
  if (err instanceof WorkflowNotFoundError) return ticketClosed();
  if (err instanceof WorkflowUpdateFailedError) {
    if (err.cause instanceof ApplicationFailure) return ruleFailure(err.cause) ?? err;
    // refused by the engine itself (not by the ticket's rules): nothing was applied, a retry is safe
    return changeNotApplied();
  }
  if (err instanceof ServiceError && (err.cause as { code?: unknown } | undefined)?.code === GRPC_RESOURCE_EXHAUSTED)
    return changeNotApplied();
  return err;
}

/** The ticket's run refused an Update only because it is about to continue-as-new: the next run takes it. */
export function isDraining(err: unknown): boolean {
  return (
    err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && err.cause.type === TICKET_FAILURES.ticketDraining
  );
}
