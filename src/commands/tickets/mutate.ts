/**
 * Sends one mutation to a ticket's workflow as an Update and maps its rejections to API errors:
 * invalid_transition → 409 (naming the allowed statuses), stale_version → 412, a deleted ticket →
 * 404. The Update's id is the request id, so a retried request is answered, not re-applied.
 */
import { WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { ApplicationFailure, type UpdateDefinition } from '@temporalio/common';
import { AppError, conflict, notFound, preconditionFailed } from '../../errors/index.js';
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
  try {
    return await ctx.temporal.withDeadline(Date.now() + (ctx.createWaitMs ?? DEFAULT_WAIT_MS), () =>
      handle.executeUpdate(update, { args: [request], updateId: request.requestId }),
    );
  } catch (err) {
    // Accepted by the workflow but not finished in time (worker or database slow): it will apply.
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return { pending: true };
    throw mapRejection(err);
  }
}

function mapRejection(err: unknown): unknown {
  if (!(err instanceof WorkflowUpdateFailedError) || !(err.cause instanceof ApplicationFailure)) return err;
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
