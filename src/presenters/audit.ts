import type { AuditLog } from '../models/index.js';

export function presentAuditEntry(a: AuditLog & { ticketNumber?: string | null }) {
  return {
    id: a.id,
    ticket_id: a.ticketId,
    ...(a.ticketNumber !== undefined ? { ticket_number: a.ticketNumber } : {}),
    ticket_version: a.ticketVersion,
    actor_type: a.actorType,
    actor_id: a.actorId,
    api_key_id: a.apiKeyId,
    action: a.action,
    field_changed: a.fieldChanged,
    old_value: a.oldValue,
    new_value: a.newValue,
    metadata: a.metadata,
    created_at: a.createdAt.toISOString(),
  };
}
