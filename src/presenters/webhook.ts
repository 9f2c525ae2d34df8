import type { Webhook } from '../models/index.js';

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
    created_by_id: w.createdById,
    created_at: w.createdAt.toISOString(),
    updated_at: w.updatedAt.toISOString(),
  };
}
