/**
 * Sends one mutation to a ticket's workflow as an Update and maps its failures to API errors
 * (outcome.ts: 409 naming the allowed statuses, 412, 404, 422 for a write the database refuses…).
 * The Update's id is the request id, so a retried request is answered, not re-applied.
 *
 * Only an *accepted* Update is durable (it is in the workflow's history). So the call first waits
 * for acceptance: if that does not come in time (workers down or overloaded) the answer is 503 —
 * the change may still be applied, and a retry with the same Idempotency-Key tells which. Once
 * accepted, a slow completion is a 202: it will be applied.
 */
import { setTimeout } from 'node:timers/promises';
import { WorkflowUpdateRPCTimeoutOrCancelledError, WorkflowUpdateStage } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { ticketWorkflowId, type MutationResult } from '../../../workflows/definitions.js';
import { CONFIRM_WAIT_MS, type CommandContext } from '../context.js';
import { isDraining, ticketWorkflowError } from './outcome.js';

/** The wait before sending again an Update a draining run refused (its handlers finish, then it continues). */
const DRAINING_RETRY_MS = 50;

export type MutationOutcome = MutationResult | { pending: true };

export async function runTicketMutation<Req extends { requestId: string; apiRequestId?: string }>(
  ctx: CommandContext,
  ticketId: string,
  update: UpdateDefinition<MutationResult, [Req]>,
  request: Req,
): Promise<MutationOutcome> {
  const handle = ctx.temporal.workflow.getHandle(ticketWorkflowId(ticketId));
  const deadline = Date.now() + (ctx.confirmWaitMs ?? CONFIRM_WAIT_MS);
  const args: [Req] = [{ ...request, apiRequestId: ctx.requestId }];
  for (;;) {
    let accepted;
    try {
      accepted = await ctx.temporal.withDeadline(deadline, () =>
        handle.startUpdate(update, { args, updateId: request.requestId, waitForStage: WorkflowUpdateStage.ACCEPTED }),
      );
    } catch (err) {
      if (await drainingRetry(err, deadline)) continue;
      // not accepted in time → 503 change_not_confirmed; a rejection → its 4xx (see outcome.ts)
      throw ticketWorkflowError(err);
    }
    try {
      return await ctx.temporal.withDeadline(Math.max(deadline, Date.now() + 1_000), () => accepted.result());
    } catch (err) {
      if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return { pending: true };
      // a validator's rejection arrives here too (the stage was reached: rejected)
      if (await drainingRetry(err, deadline)) continue;
      throw ticketWorkflowError(err);
    }
  }
}

/**
 * Refused, never accepted, by a run about to continue-as-new: the next run takes the change (the
 * handle names no run, so it follows the chain). True once it has waited and the caller should send
 * again; false when it was another failure, or no time is left before the confirmation deadline.
 */
async function drainingRetry(err: unknown, deadline: number): Promise<boolean> {
  if (!isDraining(err) || Date.now() + DRAINING_RETRY_MS >= deadline) return false;
  await setTimeout(DRAINING_RETRY_MS);
  return true;
}
