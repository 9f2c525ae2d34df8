import { z } from 'zod';
import { dashboardActivity, dashboardSummary } from '../../../commands/dashboard.js';
import { presentAuditEntry } from '../../../presenters/audit.js';
import type { ApiRouter } from '../../api-router.js';
import type { RouteDeps } from '../../context.js';
import { PaginationQuery, Paginated, pageOf } from '../../pagination.js';
import { AuditEntrySchema } from '../tickets/schema.js';

const Counts = (keys: readonly [string, ...string[]]) => z.object(Object.fromEntries(keys.map((k) => [k, z.number().int()])));
const SummarySchema = z
  .object({
    total: z.number().int(),
    by_status: Counts(['open', 'under_investigation', 'paused', 'resolved']),
    by_priority: Counts(['critical', 'high', 'medium', 'low']),
    by_group: z.array(z.object({ group_id: z.uuid().nullable(), group_name: z.string().nullable(), count: z.number().int() })),
  })
  .openapi('DashboardSummary');

export function dashboardRoutes(api: ApiRouter, deps: RouteDeps): void {
  const common = { tags: ['dashboard'], secured: true, before: deps.guard };

  api.route({
    ...common,
    method: 'get',
    path: '/dashboard/summary',
    summary: 'Ticket counts by status and priority, and unresolved tickets by group (admin, manager)',
    responses: { 200: { description: 'Counts', schema: SummarySchema }, 403: { description: 'Agents may not' } },
    handler: async (ctx) => {
      ctx.body = await dashboardSummary({ principal: ctx.state.principal!, db: deps.db });
    },
  });

  api.route({
    ...common,
    method: 'get',
    path: '/dashboard/activity',
    summary: 'Recent audit entries across all tickets, newest first (admin, manager)',
    query: PaginationQuery.extend({ page_size: PaginationQuery.shape.page_size.default(50) }),
    responses: { 200: { description: 'A page of audit entries', schema: Paginated(AuditEntrySchema, 'ActivityPage') }, 403: { description: 'Agents may not' } },
    handler: async (ctx, { query }) => {
      const { results, total } = await dashboardActivity({ principal: ctx.state.principal!, db: deps.db }, query);
      ctx.body = pageOf(results.map(presentAuditEntry), total, query.page, query.page_size);
    },
  });
}
