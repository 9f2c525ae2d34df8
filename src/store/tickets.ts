/** Ticket lookups: by UUID or number, the groups visibility depends on. */
import { GroupMembership, Ticket } from '../models/index.js';
import type { Principal } from '../auth/principal.js';
import type { Db } from '../db/index.js';
import { seesAllTickets, ticketVisibility, type Visibility } from '../policies/tickets.js';
import { UUID_PATTERN } from '../../workflows/vocabulary.js';

export async function groupIdsOf(db: Db, userId: string): Promise<string[]> {
  const rows = await GroupMembership.query(db).select('groupId').where({ userId });
  return rows.map((r) => r.groupId);
}

/** Whose tickets the principal sees (null: all); reads their groups only when they matter. */
export async function visibilityOf(db: Db, principal: Principal): Promise<Visibility | null> {
  return seesAllTickets(principal) ? null : ticketVisibility(principal, await groupIdsOf(db, principal.user.id));
}

/** The live (not deleted) ticket `ref` names (UUID or ASM-number), whoever asks. */
export async function liveTicketByRef(db: Db, ref: string): Promise<Ticket | undefined> {
  const query = Ticket.query(db).whereNull('deleted_at');
  return UUID_PATTERN.test(ref) ? await query.findById(ref) : await query.findOne({ ticketNumber: ref.toUpperCase() });
}
