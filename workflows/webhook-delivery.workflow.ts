/**
 * One webhook delivery: a single activity that Temporal retries on the delivery's own schedule.
 * The activity makes one attempt per try and records it; a retryable failure carries the delay
 * before the next attempt (schedule slot with jitter, or `Retry-After`) as its `nextRetryDelay`,
 * so the waits are durable server-side timers. Each delivery is its own workflow, on a task queue
 * of its own, so no delivery waits on another or on a ticket workflow.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { AttemptReport } from '../src/webhooks/deliveries.js';

const { deliverWebhook } = proxyActivities<Activities>({
  // one attempt is at most 15 s of HTTP plus two short writes; an attempt cut off by a dead worker
  // is tried again once this has passed
  startToCloseTimeout: '25 seconds',
  // the delays of real attempts come from the activity (nextRetryDelay); these only pace retries
  // after a crash or a database outage, which never count as attempts
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export async function webhookDeliveryWorkflow(input: { deliveryId: string }): Promise<AttemptReport> {
  return deliverWebhook(input.deliveryId);
}
