/**
 * Webhook deliveries: one activity per delivery, each retried by Temporal on its own schedule. A
 * workflow runs an event's fan-out (one start for all its endpoints), or one test or redelivery.
 * The activity makes one attempt per try and records it; a retryable failure carries the delay
 * before the next attempt (schedule slot with jitter, or `Retry-After`) as its `nextRetryDelay`,
 * so the waits are durable server-side timers. Deliveries run on a task queue of their own, apart
 * from the ticket workflows, and no delivery waits on another.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';

type DeliveryOutcome = Awaited<ReturnType<Activities['deliverWebhook']>>['status'];

const { deliverWebhook } = proxyActivities<Activities>({
  // one attempt is at most 15 s of HTTP plus two short writes; an attempt cut off by a dead worker
  // is tried again once this has passed
  startToCloseTimeout: '25 seconds',
  // the delays of real attempts come from the activity (nextRetryDelay); these only pace retries
  // after a crash or a database outage, which never count as attempts
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** Runs its deliveries side by side; each retries on its own schedule, none waits for another. */
export async function webhookDeliveryWorkflow(input: { deliveryIds: string[] }): Promise<DeliveryOutcome[]> {
  const settled = await Promise.allSettled(input.deliveryIds.map((id) => deliverWebhook(id)));
  return settled.map((s) => (s.status === 'fulfilled' ? s.value.status : 'failed'));
}
