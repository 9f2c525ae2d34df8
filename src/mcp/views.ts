/** The shapes MCP results give tickets and notes, built from the shared presenters. */
import { noteLister } from '../commands/tickets/notes.js';
import type { Ticket, TicketNote } from '../models/index.js';
import { presentNote } from '../presenters/note.js';
import { briefOf, presentTicket, presentTicketBrief } from '../presenters/ticket.js';
import { TRANSITIONS } from '../../workflows/ticket-state.js';
import { NoteItem, pickFields } from './schemas.js';
import { commandContextOf, type McpSession } from './session.js';

export const RECENT_NOTES = 5;

/** The statuses a ticket may move to now (SPEC §4), so an agent never learns them from an error. */
export const allowedNext = (t: Pick<Ticket, 'status'>) => [...TRANSITIONS[t.status]];

export function noteItem(n: TicketNote) {
  return pickFields(NoteItem, presentNote(n));
}

/** The newest notes of a ticket (visible to the caller: the ticket is). */
export async function recentNotes(s: McpSession, ticketId: string, n = RECENT_NOTES) {
  const { results } = await noteLister(commandContextOf(s), ticketId, { page: 1, page_size: n, newest_first: true });
  return results.map(noteItem);
}

export async function fullTicket(s: McpSession, t: Ticket) {
  const p = presentTicket(t);
  return {
    ...briefOf(p),
    description: p.description,
    category: p.category,
    tags: p.tags,
    created_by_id: p.created_by_id,
    created_via: p.created_via,
    created_at: p.created_at,
    allowed_next: allowedNext(t),
    recent_notes: await recentNotes(s, t.id),
  };
}

/** What a change returns: just enough to go on (get_ticket has the rest). */
export function changedTicket(t: Ticket) {
  const b = presentTicketBrief(t);
  return {
    id: b.id,
    ticket_number: b.ticket_number,
    status: b.status,
    priority: b.priority,
    assigned_group_id: b.assigned_group_id,
    assigned_user_id: b.assigned_user_id,
    version: b.version,
  };
}

/** A note as text lines for the model. */
export const noteLines = (notes: ReturnType<typeof noteItem>[]) =>
  notes.map(
    (n) => `- ${n.created_at} ${n.is_internal ? 'internal' : 'public'} note by ${n.author_id ?? 'system'}: ${JSON.stringify(n.content)}`,
  );
