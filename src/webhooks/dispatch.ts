/**
 * Starting delivery workflows. Each delivery row gets exactly one workflow, `webhook-delivery-<id>`;
 * starting it again (a retried write, the reconciler) is refused by Temporal and ignored here, even
 * after the first run has closed (REJECT_DUPLICATE), so a delivery is never run twice.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { webhookDeliveryWorkflow } from '../../workflows/webhook-delivery.workflow.js';

/** Deliveries run on a task queue of their own, so slow endpoints never hold up ticket writes. */
export function webhookTaskQueue(ticketTaskQueue: string): string {
  return `${ticketTaskQueue}-webhooks`;
}

export function webhookDeliveryWorkflowId(deliveryId: string): string {
  return `webhook-delivery-${deliveryId}`;
}

export async function startDeliveries(client: Client, taskQueue: string, deliveryIds: readonly string[]): Promise<void> {
  await Promise.all(
    deliveryIds.map(async (deliveryId) => {
      try {
        await client.workflow.start<typeof webhookDeliveryWorkflow>('webhookDeliveryWorkflow', {
          workflowId: webhookDeliveryWorkflowId(deliveryId),
          taskQueue,
          args: [{ deliveryId }],
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
    }),
  );
}
