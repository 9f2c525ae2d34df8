/** Ticket → JSON: the explicit field list REST bodies, events and MCP results share. */
import type { Ticket } from '../models/index.js';
import { slaFigures, type SlaFigures, type SlaMetric, type SlaPolicyRef } from '../../workflows/sla/clock.js';
import type { MergeLink } from '../../workflows/ticket-state.js';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The other ticket of a merge (workflows/mutations/merge.ts). */
const mergeLink = (l: MergeLink) => ({ id: l.id, ticket_number: l.ticketNumber, merged_at: l.at });

/** A ticket created before any SLA policy existed has no clock. */
const NO_SLA: SlaFigures = {
  target_seconds: 0,
  elapsed_seconds: 0,
  remaining_seconds: 0,
  due_at: null,
  at_risk_at: null,
  state: 'met',
  at_risk: false,
  breached_at: null,
  met_at: null,
  cycle: 1,
};

/** SLA figures at `now`, from the clocks the workflow wrote with the row (same pure code as the workflow's timers). */
export function presentSla(t: Ticket, metric: SlaMetric, now: Date): SlaFigures {
  return t.slaState ? slaFigures(t.slaState, metric, now.getTime()) : NO_SLA;
}

/** The policy a ticket's clocks run on, or null (clocks from before policies were recorded, or no SLA). */
export function presentSlaPolicyRef(p: SlaPolicyRef | undefined) {
  return p ? { rule_id: p.ruleId, name: p.name, version: p.version } : null;
}

export function presentTicket(t: Ticket, now: Date = new Date()) {
  return {
    id: t.id,
    ticket_number: t.ticketNumber,
    title: t.title,
    description: t.description,
    priority: t.priority,
    status: t.status,
    category: t.category,
    tags: t.tags,
    assigned_group_id: t.assignedGroupId,
    assigned_user_id: t.assignedUserId,
    created_by_id: t.createdById,
    created_via: t.createdVia,
    version: t.version,
    first_assigned_at: iso(t.firstAssignedAt),
    resolved_at: iso(t.resolvedAt),
    paused_at: iso(t.pausedAt),
    total_paused_seconds: t.totalPausedSeconds,
    sla_breached: t.slaBreached,
    sla: { assign: presentSla(t, 'assign', now), resolve: presentSla(t, 'resolve', now), policy: presentSlaPolicyRef(t.slaState?.policy) },
    merged_into: t.mergedInto ? mergeLink(t.mergedInto) : null,
    merged_from: (t.mergedFrom ?? []).map(mergeLink),
    created_at: iso(t.createdAt),
    updated_at: iso(t.updatedAt),
  };
}

export type TicketJson = ReturnType<typeof presentTicket>;

/** The compact ticket MCP tools return in lists and after changes: identity, state, and SLA at a glance. */
export function briefOf(p: TicketJson) {
  const sla = (f: SlaFigures) => ({ state: f.state, due_at: f.due_at, remaining_seconds: f.remaining_seconds, at_risk: f.at_risk });
  return {
    id: p.id,
    ticket_number: p.ticket_number,
    title: p.title,
    status: p.status,
    priority: p.priority,
    assigned_group_id: p.assigned_group_id,
    assigned_user_id: p.assigned_user_id,
    version: p.version,
    sla: { assign: sla(p.sla.assign), resolve: sla(p.sla.resolve) },
    updated_at: p.updated_at,
  };
}

export const presentTicketBrief = (t: Ticket, now: Date = new Date()) => briefOf(presentTicket(t, now));
