import type { TicketNote } from '../models/index.js';

export function presentNote(n: TicketNote) {
  return {
    id: n.id,
    ticket_id: n.ticketId,
    author_id: n.authorId,
    actor_type: n.actorType,
    content: n.content,
    is_internal: n.isInternal,
    created_at: n.createdAt.toISOString(),
    updated_at: n.updatedAt.toISOString(),
    edited_at: n.editedAt ? n.editedAt.toISOString() : null,
    from_ticket: n.fromTicket ?? null,
  };
}
