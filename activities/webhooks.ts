/** The delivery activity: one attempt per try; Temporal waits out the delay it asks for. */
import { ApplicationFailure, Context, log } from '@temporalio/activity';
import { attemptDelivery, type AttemptReport } from '../src/webhooks/deliveries.js';
import { startDeliveries } from '../src/webhooks/dispatch.js';
import type { ActivityDeps } from './index.js';

export function createWebhookActivities({ db, temporal, webhooks }: ActivityDeps) {
  return {
    async deliverWebhook(deliveryId: string): Promise<AttemptReport> {
      const report = await attemptDelivery(db, webhooks.settings, deliveryId, Context.current().cancellationSignal);
      // a webhook.disabled event this attempt stored goes out to the endpoints that want it; the
      // attempt itself is recorded, so a failure here must not repeat it: the reconciler starts them
      if (report.queued.length) {
        await startDeliveries(temporal, webhooks.taskQueue, report.queued).catch((err: Error) => log.warn('could not start deliveries yet', { error: err.message }));
      }
      if (report.status === 'pending') {
        throw ApplicationFailure.create({
          type: 'WebhookAttemptFailed',
          message: `attempt ${report.attempt}: ${report.error ?? 'failed'}`,
          nextRetryDelay: report.retryInMs,
        });
      }
      return report;
    },
  };
}
