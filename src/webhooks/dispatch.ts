/**
 * Starting delivery workflows. Each delivery row names the one workflow that runs it (its
 * `dispatch_key`: `webhook-deliveries-<event>` for an event's fan-out, `webhook-delivery-<id>` for a
 * test or redelivery); starting it again (a retried write, the reconciler) is refused by Temporal
 * and ignored here, even after the first run has closed (REJECT_DUPLICATE), so no delivery is ever
 * run by two workflows or twice.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { webhookDeliveryWorkflow } from '../../workflows/webhook-delivery.workflow.js';
import type { Dispatch } from './deliveries.js';

/** Deliveries run on a task queue of their own, so slow endpoints never hold up ticket writes. */
export function webhookTaskQueue(ticketTaskQueue: string): string {
  return `${ticketTaskQueue}-webhooks`;
}

export async function startDeliveries(client: Client, taskQueue: string, dispatches: readonly Dispatch[]): Promise<void> {
  await Promise.all(
    dispatches.map(async ({ workflowId, deliveryIds }) => {
      try {
        await client.workflow.start<typeof webhookDeliveryWorkflow>('webhookDeliveryWorkflow', {
          workflowId,
          taskQueue,
          args: [{ deliveryIds }],
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
    }),
  );
}
