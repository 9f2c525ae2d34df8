/**
 * Sends one mutation to a ticket's workflow as an Update and maps its rejections to API errors:
 * invalid_transition → 409 (naming the allowed statuses), stale_version → 412, a deleted ticket →
 * 404. The Update's id is the request id, so a retried request is answered, not re-applied.
 *
 * Only an *accepted* Update is durable (it is in the workflow's history). So the call first waits
 * for acceptance: if that does not come in time (workers down or overloaded) the answer is 503 —
 * the change may still be applied, and a retry with the same Idempotency-Key tells which. Once
 * accepted, a slow completion is a 202: it will be applied.
 */
import { WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError, WorkflowUpdateStage } from '@temporalio/client';
import { ApplicationFailure, type UpdateDefinition } from '@temporalio/common';
import { AppError, conflict, notFound, preconditionFailed, serviceUnavailable } from '../../errors/index.js';
import { ticketWorkflowId, type MutationResult } from '../../../workflows/definitions.js';
import type { CommandContext } from '../context.js';

const DEFAULT_WAIT_MS = 10_000;

export type MutationOutcome = MutationResult | { pending: true };

export async function runTicketMutation<Req extends { requestId: string }>(
  ctx: CommandContext,
  ticketId: string,
  update: UpdateDefinition<MutationResult, [Req]>,
  request: Req,
): Promise<MutationOutcome> {
  const handle = ctx.temporal.workflow.getHandle(ticketWorkflowId(ticketId));
  const deadline = Date.now() + (ctx.createWaitMs ?? DEFAULT_WAIT_MS);
  let accepted;
  try {
    accepted = await ctx.temporal.withDeadline(deadline, () =>
      handle.startUpdate(update, { args: [request], updateId: request.requestId, waitForStage: WorkflowUpdateStage.ACCEPTED }),
    );
  } catch (err) {
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
      throw serviceUnavailable(
        'change_not_confirmed',
        'The ticket did not confirm the change in time (its workers are busy or down). It may still be applied: retry with the same Idempotency-Key to learn the outcome without applying it twice.',
      );
    }
    throw mapRejection(err);
  }
  try {
    return await ctx.temporal.withDeadline(Math.max(deadline, Date.now() + 1_000), () => accepted.result());
  } catch (err) {
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return { pending: true };
    throw mapRejection(err);
  }
}

function mapRejection(err: unknown): unknown {
  if (!(err instanceof WorkflowUpdateFailedError)) return err;
  if (!(err.cause instanceof ApplicationFailure)) {
    // refused by the engine itself (not by the ticket's rules): nothing was applied, a retry is safe
    return serviceUnavailable('change_not_applied', 'The ticket could not take the change right now; nothing was applied. Retry shortly.');
  }
  const failure = err.cause;
  const details = (failure.details?.[0] ?? {}) as Record<string, unknown>;
  switch (failure.type) {
    case 'invalid_transition':
      return conflict('invalid_transition', failure.message, details);
    case 'stale_version':
      return preconditionFailed(failure.message, details);
    case 'ticket_deleted':
      return notFound('Ticket');
    case 'ticket_not_ready':
      return new AppError(409, 'ticket_not_ready', failure.message);
    default:
      return err;
  }
}
