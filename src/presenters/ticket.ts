/** Ticket → JSON: the explicit field list REST bodies, events and MCP results share. */
import type { Ticket } from '../models/index.js';
import { slaFigures } from '../sla/figures.js';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function presentTicket(t: Ticket, now: Date = new Date()) {
  const common = {
    startedAt: t.createdAt,
    pausedSeconds: t.totalPausedSeconds,
    pausedSince: t.pausedAt,
    atRiskPercent: 80,
  };
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
    sla: {
      assign: slaFigures(
        { ...common, targetSeconds: t.slaAssignTargetSeconds, stoppedAt: t.firstAssignedAt, breachedAt: t.slaAssignBreachedAt },
        now,
      ),
      resolve: slaFigures(
        { ...common, targetSeconds: t.slaResolveTargetSeconds, stoppedAt: t.resolvedAt, breachedAt: t.slaResolveBreachedAt },
        now,
      ),
    },
    created_at: iso(t.createdAt),
    updated_at: iso(t.updatedAt),
  };
}

export type TicketJson = ReturnType<typeof presentTicket>;
