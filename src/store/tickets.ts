/** Ticket lookup by UUID or number, with visibility applied (invisible = not found). */
import { notFound } from '../errors/index.js';
import { GroupMembership, Ticket } from '../models/index.js';
import type { Principal } from '../auth/principal.js';
import type { Db } from '../db/index.js';
import { canViewTicket, seesAllTickets, ticketVisibility, type Visibility } from '../policies/tickets.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function groupIdsOf(db: Db, userId: string): Promise<string[]> {
  const rows = await GroupMembership.query(db).select('groupId').where({ userId });
  return rows.map((r) => r.groupId);
}

/** Whose tickets the principal sees (null: all); reads their groups only when they matter. */
export async function visibilityOf(db: Db, principal: Principal): Promise<Visibility | null> {
  return seesAllTickets(principal) ? null : ticketVisibility(principal, await groupIdsOf(db, principal.user.id));
}

/** The live ticket the principal may see, by `ref` (UUID or ASM-number), or a 404. */
export async function findVisibleTicket(db: Db, principal: Principal, ref: string): Promise<Ticket> {
  const query = Ticket.query(db).whereNull('deleted_at');
  const ticket = UUID.test(ref) ? await query.findById(ref) : await query.findOne({ ticketNumber: ref.toUpperCase() });
  if (!ticket) throw notFound('Ticket');
  const groups = seesAllTickets(principal) ? [] : await groupIdsOf(db, principal.user.id);
  if (!canViewTicket(principal, ticket, groups)) throw notFound('Ticket');
  return ticket;
}
