import { z } from 'zod';
import { dashboardActivity, dashboardSla, dashboardSummary, slaRange } from '../../../commands/dashboard.js';
import { DateOrInstant } from '../../../commands/tickets/inputs.js';
import { presentAuditEntry } from '../../../presenters/audit.js';
import type { ApiRouter } from '../../api-router.js';
import type { RouteDeps } from '../../context.js';
import { PaginationQuery, Paginated, pageOf } from '../../pagination.js';
import { Timestamp } from '../common.js';
import { AuditEntrySchema, Priority } from '../tickets/schema.js';
import { TICKET_PRIORITIES, TICKET_STATUSES } from '../../../../workflows/vocabulary.js';

const Counts = (keys: readonly [string, ...string[]]) => z.object(Object.fromEntries(keys.map((k) => [k, z.number().int()])));
const SummarySchema = z
  .object({
    total: z.number().int(),
    by_status: Counts(TICKET_STATUSES),
    by_priority: Counts(TICKET_PRIORITIES),
    by_group: z.array(z.object({ group_id: z.uuid().nullable(), group_name: z.string().nullable(), count: z.number().int() })),
  })
  .openapi('DashboardSummary');

const SlaQuery = z
  .object({
    group_id: z.uuid().optional(),
    priority: Priority.optional(),
    date_from: DateOrInstant.optional().describe('tickets created at or after (a date means its start, UTC)'),
    date_to: DateOrInstant.optional().describe('tickets created before (a date means the end of that day, UTC)'),
  })
  .strict();

const SlaFigures = {
  tickets: z.number().int(),
  assigned: z.number().int(),
  resolved: z.number().int(),
  mtta_seconds: z.number().int().nullable().describe('mean time from creation to the first assignment to a user'),
  mttr_seconds: z.number().int().nullable().describe('mean time from creation to resolution, paused time excluded'),
  business_mtta_seconds: z
    .number()
    .int()
    .nullable()
    .describe("mean business time on the assign clock when the first assignment met it (the ticket's calendar, paused time excluded)"),
  business_mttr_seconds: z
    .number()
    .int()
    .nullable()
    .describe(
      "mean business time on the resolve clock of resolved tickets (the ticket's calendar; paused time and time spent resolved before a reopen excluded)",
    ),
  breached: z.number().int().describe('tickets with any SLA metric breached (in its current cycle)'),
  assign_breached: z.number().int(),
  resolve_breached: z.number().int(),
  assign_breaches: z.number().int().describe('assign breaches recorded'),
  resolve_breaches: z.number().int().describe('resolve breaches recorded, one per cycle (a reopen starts a new cycle)'),
  breach_rate: z.number().nullable().describe('breached / tickets (0–1)'),
};

const SlaDashboardSchema = z
  .object({
    filters: z.object({
      group_id: z.uuid().nullable(),
      priority: Priority.nullable(),
      date_from: Timestamp.nullable().describe('the instant the filter starts at (a date: its start, UTC)'),
      date_to: Timestamp.nullable().describe('the instant the filter ends before (a date: the end of that day, UTC)'),
    }),
    overall: z.object(SlaFigures),
    by_group: z.array(z.object({ group_id: z.uuid().nullable(), group_name: z.string().nullable(), ...SlaFigures })),
    by_priority: z.array(z.object({ priority: Priority, ...SlaFigures })),
  })
  .openapi('DashboardSla');

export function dashboardRoutes(api: ApiRouter, deps: RouteDeps): void {
  const common = { tags: ['dashboard'], secured: true, before: deps.guard };

  api.route({
    ...common,
    method: 'get',
    path: '/dashboard/summary',
    operationId: 'getDashboardSummary',
    summary: 'Ticket counts by status and priority, and unresolved tickets by group (admin, manager)',
    responses: { 200: { description: 'Counts', schema: SummarySchema }, 403: { description: 'Agents may not' } },
    handler: async (ctx) => {
      ctx.body = await dashboardSummary({ principal: ctx.state.principal!, db: deps.db });
    },
  });

  api.route({
    ...common,
    method: 'get',
    path: '/dashboard/sla',
    operationId: 'getDashboardSla',
    summary: 'MTTA, MTTR (paused time excluded) and breach rates, overall, by group and by priority (admin, manager)',
    query: SlaQuery,
    responses: { 200: { description: 'SLA figures', schema: SlaDashboardSchema }, 403: { description: 'Agents may not' } },
    handler: async (ctx, { query }) => {
      const range = slaRange(query);
      ctx.body = await dashboardSla(
        { principal: ctx.state.principal!, db: deps.db },
        { group_id: query.group_id, priority: query.priority, ...range },
      );
    },
  });

  api.route({
    ...common,
    method: 'get',
    path: '/dashboard/activity',
    operationId: 'getDashboardActivity',
    summary: 'Recent audit entries across all tickets, newest first (admin, manager)',
    query: PaginationQuery.extend({ page_size: PaginationQuery.shape.page_size.default(50) }),
    responses: {
      200: { description: 'A page of audit entries', schema: Paginated(AuditEntrySchema, 'ActivityPage') },
      403: { description: 'Agents may not' },
    },
    handler: async (ctx, { query }) => {
      const { results, total } = await dashboardActivity({ principal: ctx.state.principal!, db: deps.db }, query);
      ctx.body = pageOf(results.map(presentAuditEntry), total, query.page, query.page_size);
    },
  });
}
