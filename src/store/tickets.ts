/** Ticket lookups: by UUID or number, the groups visibility depends on. */
import { GroupMembership, Ticket } from '../models/index.js';
import type { Principal } from '../auth/principal.js';
import type { Db } from '../db/index.js';
import { seesAllTickets, type SqlVisibility } from '../policies/tickets.js';
import { UUID_PATTERN } from '../../workflows/vocabulary.js';

export async function groupIdsOf(db: Db, userId: string): Promise<string[]> {
  const rows = await GroupMembership.query(db).select('groupId').where({ userId });
  return rows.map((r) => r.groupId);
}

/**
 * Whose tickets the principal sees, as a SQL scope (null: all). By default an agent's groups are a
 * subquery of the list's own statement, not a round trip before it; `withGroupIds` reads them
 * first, for what needs the ids themselves (the planner's estimate of a list's size).
 */
export async function visibilityOf(db: Db, principal: Principal, withGroupIds = false): Promise<SqlVisibility | null> {
  if (seesAllTickets(principal)) return null;
  const userId = principal.user.id;
  return {
    userId,
    groupIds: withGroupIds ? await groupIdsOf(db, userId) : db('group_memberships').select('group_id').where('user_id', userId),
  };
}

/** The live (not deleted) ticket `ref` names (UUID or ASM-number), whoever asks. */
export async function liveTicketByRef(db: Db, ref: string): Promise<Ticket | undefined> {
  const query = Ticket.query(db).whereNull('deleted_at');
  return UUID_PATTERN.test(ref) ? await query.findById(ref) : await query.findOne({ ticketNumber: ref.toUpperCase() });
}
