/**
 * Ticket visibility. A ticket an agent may not see is a 404, so callers turn a false
 * `canViewTicket` into notFound, never forbidden.
 */
import type { Principal } from '../auth/principal.js';
import { can } from './index.js';

export interface TicketScope {
  assignedGroupId: string | null;
  assignedUserId: string | null;
  createdById: string | null;
}

export const canReadTickets = (p: Principal) => can(p, 'tickets.read');
export const canWriteTickets = (p: Principal) => can(p, 'tickets.write');

/** Admins and managers see every ticket; agents those of their groups, assigned to or created by them. */
export function canViewTicket(p: Principal, ticket: TicketScope, memberOfGroupIds: readonly string[]): boolean {
  if (!canReadTickets(p)) return false;
  if (can(p, 'tickets.readAll')) return true;
  return (
    ticket.assignedUserId === p.user.id ||
    ticket.createdById === p.user.id ||
    (ticket.assignedGroupId !== null && memberOfGroupIds.includes(ticket.assignedGroupId))
  );
}
