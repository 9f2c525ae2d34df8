/** Dashboard figures computed in SQL over live tickets (admins and managers). */
import { validationFailed } from '../errors/index.js';
import { AuditLog, Ticket } from '../models/index.js';
import { authorize } from '../policies/index.js';
import type { CommandContext } from './context.js';
import { instantOf } from './tickets/inputs.js';
import { TICKET_PRIORITIES, TICKET_STATUSES, type TicketPriority } from '../../workflows/vocabulary.js';

type Ctx = Pick<CommandContext, 'principal' | 'db'>;

export async function dashboardSummary(ctx: Ctx) {
  authorize(ctx.principal, 'dashboards.read');
  const live = () => Ticket.query(ctx.db).whereNull('deleted_at');
  const [byStatus, byPriority, byGroup, total] = await Promise.all([
    live().select('status').count('* as count').groupBy('status'),
    live().select('priority').count('* as count').groupBy('priority'),
    ctx
      .db('tickets')
      .leftJoin('groups', 'groups.id', 'tickets.assigned_group_id')
      .whereNull('tickets.deleted_at')
      .whereNotIn('tickets.status', ['resolved', 'merged']) // merged: closed into another ticket
      .select('tickets.assigned_group_id as groupId', 'groups.name as groupName')
      .count('* as count')
      .groupBy('tickets.assigned_group_id', 'groups.name')
      .orderBy('count', 'desc'),
    live().resultSize(),
  ]);
  const counts = (rows: unknown[], key: string, keys: readonly string[]) =>
    Object.fromEntries(keys.map((k) => [k, Number((rows as Record<string, unknown>[]).find((r) => r[key] === k)?.count ?? 0)]));
  return {
    total,
    by_status: counts(byStatus, 'status', TICKET_STATUSES),
    by_priority: counts(byPriority, 'priority', TICKET_PRIORITIES),
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

/** The created-at range of the SLA figures (a date is its whole day, UTC); `date_to` must follow `date_from`. */
export function slaRange(f: { date_from?: string; date_to?: string }): Pick<SlaDashboardFilters, 'date_from' | 'date_to'> {
  const range = { date_from: instantOf(f.date_from, 'from'), date_to: instantOf(f.date_to, 'to') };
  if (range.date_from && range.date_to && range.date_from >= range.date_to)
    throw validationFailed([{ in: 'query', path: 'date_to', message: 'must be after date_from.' }]);
  return range;
}

export interface SlaDashboardFilters {
  group_id?: string;
  priority?: TicketPriority;
  /** created at or after */
  date_from?: Date;
  /** created before */
  date_to?: Date;
}

interface SlaRow {
  groupId: string | null;
  groupName: string | null;
  priority: string | null;
  bucket: number;
  tickets: string;
  assigned: string;
  resolved: string;
  breached: string;
  assignBreached: string;
  resolveBreached: string;
  mttaSeconds: string | null;
  mttrSeconds: string | null;
  businessMttaSeconds: string | null;
  businessMttrSeconds: string | null;
  assignBreaches: string | null;
  resolveBreaches: string | null;
}

/**
 * MTTA (first assignment − creation), MTTR (resolution − creation − paused time) and breach rates
 * over live tickets created in the range, overall, per group and per priority: one SQL statement
 * with grouping sets. The business-time variants read the ticket's stored clocks (`sla_state`):
 * the business ms its assign clock had counted when the first assignment met it, and its resolve
 * clock when resolved — under the ticket's own calendar, paused time excluded (and, after a
 * reopen, the time it spent resolved), exactly what its SLA measured. Breaches per cycle count the
 * stored `ticket.sla_breached` events (a reopen starts a new cycle), beside the tickets breached in
 * their current cycle.
 */
export async function dashboardSla(ctx: Ctx, f: SlaDashboardFilters) {
  authorize(ctx.principal, 'dashboards.read');
  const query = ctx
    .db('tickets as t')
    .leftJoin('groups as g', 'g.id', 't.assigned_group_id')
    .whereNull('t.deleted_at')
    .select(
      't.assigned_group_id as groupId',
      ctx.db.raw('min(g.name) as "groupName"'),
      't.priority',
      ctx.db.raw('grouping(t.assigned_group_id, t.priority) as bucket'),
      ctx.db.raw('count(*) as tickets'),
      ctx.db.raw('count(t.first_assigned_at) as assigned'),
      ctx.db.raw(`count(*) filter (where t.status = 'resolved') as resolved`),
      ctx.db.raw('count(*) filter (where t.sla_breached) as breached'),
      ctx.db.raw('count(t.sla_assign_breached_at) as "assignBreached"'),
      ctx.db.raw('count(t.sla_resolve_breached_at) as "resolveBreached"'),
      ctx.db.raw('avg(extract(epoch from t.first_assigned_at - t.created_at)) as "mttaSeconds"'),
      ctx.db.raw(
        `avg(extract(epoch from t.resolved_at - t.created_at) - t.total_paused_seconds) filter (where t.status = 'resolved') as "mttrSeconds"`,
      ),
      ctx.db.raw(
        `avg((t.sla_state->'assign'->>'elapsedMs')::numeric / 1000) filter (where t.first_assigned_at is not null and t.sla_state->'assign'->>'phase' = 'met') as "businessMttaSeconds"`,
      ),
      ctx.db.raw(
        `avg((t.sla_state->'resolve'->>'elapsedMs')::numeric / 1000) filter (where t.status = 'resolved' and t.sla_state->'resolve'->>'phase' = 'met') as "businessMttrSeconds"`,
      ),
      ctx.db.raw('sum(b.assign_breaches) as "assignBreaches"'),
      ctx.db.raw('sum(b.resolve_breaches) as "resolveBreaches"'),
    )
    .joinRaw(
      `left join lateral (select count(*) filter (where e.payload->'data'->'sla'->>'metric' = 'assign') as assign_breaches,
        count(*) filter (where e.payload->'data'->'sla'->>'metric' = 'resolve') as resolve_breaches
        from events e where e.ticket_id = t.id and e.type = 'ticket.sla_breached') b on true`,
    )
    .groupByRaw('grouping sets ((), (t.assigned_group_id), (t.priority))');
  if (f.group_id) query.where('t.assigned_group_id', f.group_id);
  if (f.priority) query.where('t.priority', f.priority);
  if (f.date_from) query.where('t.created_at', '>=', f.date_from);
  if (f.date_to) query.where('t.created_at', '<', f.date_to);
  const rows = (await query) as SlaRow[];

  const figures = (r: SlaRow | undefined) => {
    const n = (v: string | undefined) => Number(v ?? 0);
    const seconds = (v: string | null | undefined) => (v === null || v === undefined ? null : Math.round(Number(v)));
    const tickets = n(r?.tickets);
    return {
      tickets,
      assigned: n(r?.assigned),
      resolved: n(r?.resolved),
      mtta_seconds: seconds(r?.mttaSeconds),
      mttr_seconds: seconds(r?.mttrSeconds),
      business_mtta_seconds: seconds(r?.businessMttaSeconds),
      business_mttr_seconds: seconds(r?.businessMttrSeconds),
      breached: n(r?.breached),
      assign_breached: n(r?.assignBreached),
      resolve_breached: n(r?.resolveBreached),
      assign_breaches: n(r?.assignBreaches ?? undefined),
      resolve_breaches: n(r?.resolveBreaches ?? undefined),
      breach_rate: tickets ? Math.round((n(r?.breached) / tickets) * 10_000) / 10_000 : null,
    };
  };
  // grouping(): 3 = overall, 1 = per group (priority rolled up), 2 = per priority
  return {
    filters: {
      group_id: f.group_id ?? null,
      priority: f.priority ?? null,
      date_from: f.date_from?.toISOString() ?? null,
      date_to: f.date_to?.toISOString() ?? null,
    },
    overall: figures(rows.find((r) => Number(r.bucket) === 3)),
    by_group: rows.filter((r) => Number(r.bucket) === 1).map((r) => ({ group_id: r.groupId, group_name: r.groupName, ...figures(r) })),
    by_priority: rows.filter((r) => Number(r.bucket) === 2).map((r) => ({ priority: r.priority!, ...figures(r) })),
  };
}
