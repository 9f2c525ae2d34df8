/**
 * Who may do what with tickets (SPEC §8), as pure functions. A ticket an agent may not see is a
 * 404, so callers turn a false `canViewTicket` into notFound, never forbidden.
 */
import type { Principal } from '../auth/principal.js';

export interface TicketScope {
  assignedGroupId: string | null;
  assignedUserId: string | null;
  createdById: string | null;
}

function hasScope(p: Principal, scope: 'tickets:read' | 'tickets:write'): boolean {
  if (p.scopes === null || p.scopes.length === 0 || p.scopes.includes('admin')) return true;
  return p.scopes.includes(scope) || (scope === 'tickets:read' && p.scopes.includes('tickets:write'));
}

export function canReadTickets(p: Principal): boolean {
  return hasScope(p, 'tickets:read');
}

export function canWriteTickets(p: Principal): boolean {
  return hasScope(p, 'tickets:write');
}

/** Admins and managers see every ticket; agents those of their groups, assigned to or created by them. */
export function canViewTicket(p: Principal, ticket: TicketScope, memberOfGroupIds: readonly string[]): boolean {
  if (!canReadTickets(p)) return false;
  if (p.role === 'admin' || p.role === 'manager') return true;
  return (
    ticket.assignedUserId === p.user.id ||
    ticket.createdById === p.user.id ||
    (ticket.assignedGroupId !== null && memberOfGroupIds.includes(ticket.assignedGroupId))
  );
}
