/**
 * The ticket rules, each named once. Visibility exists in two forms that must agree — a JS check for
 * one ticket and a SQL scope for lists (tests/db/ticket-visibility.test.ts runs both on the same
 * rows). A ticket an agent may not see is a 404, so callers turn a false `canViewTicket` into
 * notFound, never forbidden.
 */
import type { Knex } from 'knex';
import type { Principal } from '../auth/principal.js';
import { can } from './index.js';

export interface TicketScope {
  assignedGroupId: string | null;
  assignedUserId: string | null;
  createdById: string | null;
}

export const canReadTickets = (p: Principal) => can(p, 'tickets.read');
export const canWriteTickets = (p: Principal) => can(p, 'tickets.write');

/**
 * Whose tickets a reader sees: null for every ticket (admins and managers); otherwise an agent's
 * own (assigned to or created by them) and those assigned to one of their groups.
 */
export interface Visibility {
  userId: string;
  groupIds: readonly string[];
}

/** Whether the principal sees every ticket (then its groups do not matter). */
export const seesAllTickets = (p: Principal) => can(p, 'tickets.readAll');

export function ticketVisibility(p: Principal, memberOfGroupIds: readonly string[]): Visibility | null {
  return seesAllTickets(p) ? null : { userId: p.user.id, groupIds: memberOfGroupIds };
}

/** Admins and managers see every ticket; agents those of their groups, assigned to or created by them. */
export function canViewTicket(p: Principal, ticket: TicketScope, memberOfGroupIds: readonly string[]): boolean {
  if (!canReadTickets(p)) return false;
  const v = ticketVisibility(p, memberOfGroupIds);
  if (!v) return true;
  return (
    ticket.assignedUserId === v.userId ||
    ticket.createdById === v.userId ||
    (ticket.assignedGroupId !== null && v.groupIds.includes(ticket.assignedGroupId))
  );
}

/**
 * A Visibility for SQL: the reader's groups as ids, or as a subquery that reads them inside the
 * statement (no round trip of its own; the planner's row estimate needs the ids).
 */
export interface SqlVisibility {
  userId: string;
  groupIds: readonly string[] | Knex.QueryBuilder;
}

/** The query builder calls `visibleTo` makes (a Knex or an Objection builder). */
interface ConditionBuilder {
  where(column: string, value: string): this;
  orWhere(column: string, value: string): this;
  orWhereIn(column: string, values: string[] | Knex.QueryBuilder): this;
}

/** `canViewTicket` as a SQL condition on `tickets`, for `query.where(visibleTo(v))` (callers check `canReadTickets` first). */
export function visibleTo(v: SqlVisibility): <B extends ConditionBuilder>(w: B) => B {
  const groups = Array.isArray(v.groupIds) ? [...(v.groupIds as readonly string[])] : (v.groupIds as Knex.QueryBuilder);
  return (w) =>
    w.where('tickets.assigned_user_id', v.userId).orWhere('tickets.created_by_id', v.userId).orWhereIn('tickets.assigned_group_id', groups);
}

/** A note's author, a manager or an admin may edit it. */
export const canEditNote = (p: Principal, note: { authorId: string | null }) => note.authorId === p.user.id || can(p, 'tickets.readAll');

/** A file's uploader, a manager or an admin may delete it. */
export const canDeleteAttachment = (p: Principal, attachment: { uploadedById: string | null }) =>
  attachment.uploadedById === p.user.id || can(p, 'tickets.readAll');
