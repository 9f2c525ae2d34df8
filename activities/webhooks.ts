/** The delivery activity: one attempt per try; Temporal waits out the delay it asks for. */
import { ApplicationFailure, Context, log } from '@temporalio/activity';
import { ApplicationFailureCategory } from '@temporalio/common';
import { attemptDelivery, type AttemptReport } from '../src/webhooks/deliveries.js';
import { startDeliveries } from '../src/webhooks/dispatch.js';
import type { ActivityDeps } from './index.js';

export function createWebhookActivities({ db, temporal, webhooks }: ActivityDeps) {
  return {
    async deliverWebhook(deliveryId: string): Promise<AttemptReport> {
      const { cancellationSignal: signal, info } = Context.current();
      const report = await attemptDelivery(db, webhooks.settings, deliveryId, { signal, tries: info.attempt });
      // a webhook.disabled event this attempt stored goes out to the endpoints that want it; the
      // attempt itself is recorded, so a failure here must not repeat it: the reconciler starts them
      if (report.queued.length) {
        await startDeliveries(temporal, webhooks.taskQueue, report.queued).catch((err: Error) =>
          log.warn('could not start deliveries yet', { error: err.message }),
        );
      }
      if (report.status === 'deferred') {
        // no attempt was made (the endpoint's budget is full, or it asked to wait): the slot is
        // free again at once, and the delivery looks again after the wait
        throw ApplicationFailure.create({
          type: 'WebhookEndpointBusy',
          message:
            report.deferredBy === 'retry_after'
              ? 'the endpoint asked to wait (Retry-After)'
              : "the endpoint's budget of attempts in flight is full",
          nextRetryDelay: report.retryInMs,
          // an expected wait, not a fault: logged at debug level and kept out of failure metrics
          category: ApplicationFailureCategory.BENIGN,
        });
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
