import type { Webhook, WebhookDelivery, WebhookDeliveryAttempt } from '../models/index.js';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** Never the secret: it appears once, beside this, in the create and rotate responses. */
export function presentWebhook(w: Webhook) {
  return {
    id: w.id,
    url: w.url,
    event_types: w.eventTypes,
    description: w.description,
    is_active: w.isActive,
    disabled_reason: w.disabledReason,
    disabled_at: iso(w.disabledAt),
    failing_since: iso(w.failingSince),
    previous_secret_expires_at:
      w.previousSecret && w.previousSecretExpiresAt && w.previousSecretExpiresAt > new Date() ? iso(w.previousSecretExpiresAt) : null,
    created_by_id: w.createdById,
    created_at: w.createdAt.toISOString(),
    updated_at: w.updatedAt.toISOString(),
  };
}

export function presentDelivery(d: WebhookDelivery & { eventType: string }) {
  return {
    id: d.id,
    webhook_id: d.webhookId,
    event_id: d.eventId,
    event_type: d.eventType,
    status: d.status,
    attempt_count: d.attemptCount,
    next_attempt_at: iso(d.nextAttemptAt),
    last_status_code: d.lastStatusCode,
    last_latency_ms: d.lastLatencyMs,
    last_error: d.lastError,
    generation: d.generation,
    created_at: d.createdAt.toISOString(),
    completed_at: iso(d.completedAt),
  };
}

export function presentAttempt(a: WebhookDeliveryAttempt) {
  return {
    attempt_number: a.attemptNumber,
    requested_at: a.requestedAt.toISOString(),
    status_code: a.statusCode,
    latency_ms: a.latencyMs,
    response_body: a.responseBody,
    error: a.error,
  };
}
