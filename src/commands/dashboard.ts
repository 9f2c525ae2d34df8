/** Dashboard figures computed in SQL over live tickets (admins and managers). */
import { AuditLog, Ticket } from '../models/index.js';
import { authorize } from '../policies/index.js';
import type { CommandContext } from './context.js';

type Ctx = Pick<CommandContext, 'principal' | 'db'>;

export async function dashboardSummary(ctx: Ctx) {
  authorize(ctx.principal, 'dashboards.read');
  const live = () => Ticket.query(ctx.db).whereNull('deleted_at');
  const [byStatus, byPriority, byGroup, total] = await Promise.all([
    live().select('status').count('* as count').groupBy('status'),
    live().select('priority').count('* as count').groupBy('priority'),
    ctx.db('tickets')
      .leftJoin('groups', 'groups.id', 'tickets.assigned_group_id')
      .whereNull('tickets.deleted_at')
      .whereNot('tickets.status', 'resolved')
      .select('tickets.assigned_group_id as groupId', 'groups.name as groupName')
      .count('* as count')
      .groupBy('tickets.assigned_group_id', 'groups.name')
      .orderBy('count', 'desc'),
    live().resultSize(),
  ]);
  const counts = (rows: unknown[], key: string, keys: string[]) =>
    Object.fromEntries(keys.map((k) => [k, Number((rows as Record<string, unknown>[]).find((r) => r[key] === k)?.count ?? 0)]));
  return {
    total,
    by_status: counts(byStatus, 'status', ['open', 'under_investigation', 'paused', 'resolved']),
    by_priority: counts(byPriority, 'priority', ['critical', 'high', 'medium', 'low']),
    // unresolved tickets per group; group_id null = unassigned
    by_group: (byGroup as { groupId: string | null; groupName: string | null; count: string }[]).map((r) => ({
      group_id: r.groupId,
      group_name: r.groupName,
      count: Number(r.count),
    })),
  };
}

export async function dashboardActivity(ctx: Ctx, q: { page: number; page_size: number }) {
  authorize(ctx.principal, 'dashboards.read');
  return AuditLog.query(ctx.db)
    .select('audit_log.*', 'tickets.ticket_number')
    .leftJoin('tickets', 'tickets.id', 'audit_log.ticket_id')
    .orderBy('audit_log.created_at', 'desc')
    .orderBy('audit_log.id')
    .page(q.page - 1, q.page_size);
}
