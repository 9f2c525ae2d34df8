/**
 * What a merge leaves readable (workflows/mutations/merge.ts): a target lists the notes and
 * attachments of every ticket merged into it — and of those merged into them — each marked with
 * `from_ticket`; a file of a merged ticket is reachable by whoever may see a ticket it was merged into.
 */
import { AppError, notFound } from '../../errors/index.js';
import { Ticket } from '../../models/index.js';
import type { Principal } from '../../auth/principal.js';
import type { Db } from '../../db/index.js';
import { findVisibleTicket } from './read.js';

/** Merges nest rarely; a bound keeps a corrupted chain from looping. */
const MAX_DEPTH = 20;

export interface TicketOrigin {
  id: string;
  ticket_number: string;
}

/** The ticket's id and the ids of every ticket merged into it (transitively), each with its origin (null: the ticket itself). */
export async function mergedSources(db: Db, ticket: Ticket): Promise<Map<string, TicketOrigin | null>> {
  const origins = new Map<string, TicketOrigin | null>([[ticket.id, null]]);
  let frontier = ticket.mergedFrom ?? [];
  for (let depth = 0; frontier.length > 0 && depth < MAX_DEPTH; depth++) {
    const fresh = frontier.filter((l) => !origins.has(l.id));
    for (const l of fresh) origins.set(l.id, { id: l.id, ticket_number: l.ticketNumber });
    if (fresh.length === 0) break;
    const rows = await Ticket.query(db)
      .select('id', 'mergedFrom')
      .whereIn(
        'id',
        fresh.map((l) => l.id),
      );
    frontier = rows.flatMap((r) => r.mergedFrom ?? []);
  }
  return origins;
}

/** A ticket by id the principal may see directly, or through a ticket it was merged into; else 404 `what`. */
export async function findReachableTicket(db: Db, principal: Principal, id: string, what: string): Promise<Ticket> {
  let ref = id;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    try {
      const visible = await findVisibleTicket({ db, principal }, ref);
      return ref === id ? visible : await Ticket.query(db).findById(id).throwIfNotFound();
    } catch (err) {
      if (!(err instanceof AppError && err.status === 404)) throw err;
      const row = await Ticket.query(db).findById(ref).whereNull('deleted_at');
      if (!row?.mergedInto) break;
      ref = row.mergedInto.id;
    }
  }
  throw notFound(what);
}
