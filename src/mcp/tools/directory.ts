/** Read-only tools over people and figures: groups, users, the dashboard and SLA metrics. */
import { z } from 'zod';
import { dashboardSla, dashboardSummary } from '../../commands/dashboard.js';
import { groupLister } from '../../commands/groups.js';
import { userLister } from '../../commands/users.js';
import { can } from '../../policies/index.js';
import { presentGroup } from '../../presenters/group.js';
import { presentUser } from '../../presenters/user.js';
import { ok } from '../results.js';
import { Page, pageFields, pageOf, Priority } from '../schemas.js';
import type { McpSession } from '../session.js';
import type { ToolRegistrar } from '../server.js';

const PAGE_SIZE = 25;

const Figures = z.object({
  tickets: z.number(),
  mtta_seconds: z.number().nullable(),
  mttr_seconds: z.number().nullable(),
  breached: z.number(),
  breach_rate: z.number().nullable(),
});

export function registerDirectoryTools(tool: ToolRegistrar, s: McpSession): void {
  tool({
    name: 'list_groups',
    title: 'List groups',
    description: 'Support groups with their ids and member counts (for assigning tickets).',
    readOnly: true,
    input: { page: Page },
    output: pageOf(z.object({ id: z.string(), name: z.string(), description: z.string(), member_count: z.number().int().optional() })),
    run: async ({ page }) => {
      const { results, total } = await groupLister({ principal: s.principal, db: s.deps.db }, { page, page_size: PAGE_SIZE });
      const items = results.map((g) => {
        const p = presentGroup(g);
        return { id: p.id, name: p.name, description: p.description, member_count: p.member_count };
      });
      return ok(`${total} group(s).`, pageFields(items, total, page, PAGE_SIZE));
    },
  });

  tool({
    name: 'list_users',
    title: 'List users',
    description: 'People who can be assigned tickets; filter by group, role or a name.',
    readOnly: true,
    input: {
      search: z.string().max(100).optional().describe('part of a username, name or e-mail'),
      group_id: z.uuid().optional(),
      role: z.enum(['admin', 'manager', 'agent']).optional(),
      page: Page,
    },
    output: pageOf(z.object({ id: z.string(), username: z.string(), full_name: z.string(), role: z.string() })),
    run: async ({ page, ...filters }) => {
      const { results, total } = await userLister(
        { principal: s.principal, db: s.deps.db },
        { ...filters, is_active: true, page, page_size: PAGE_SIZE },
      );
      const items = results.map((u) => {
        const p = presentUser(u);
        return { id: p.id, username: p.username, full_name: p.full_name, role: p.role };
      });
      return ok(`${total} active user(s).`, pageFields(items, total, page, PAGE_SIZE));
    },
  });

  // Dashboards are for admins and managers: agents' keys are not offered these tools at all.
  if (!can(s.principal, 'dashboards.read')) return;

  tool({
    name: 'get_dashboard_summary',
    title: 'Dashboard summary',
    description: 'Ticket counts by status and priority, and unresolved tickets per group.',
    readOnly: true,
    input: {},
    output: z.object({
      total: z.number(),
      by_status: z.record(z.string(), z.number()),
      by_priority: z.record(z.string(), z.number()),
      by_group: z.array(z.record(z.string(), z.unknown())),
    }),
    run: async () => {
      const summary = await dashboardSummary({ principal: s.principal, db: s.deps.db });
      const b = summary.by_status;
      return ok(
        `${summary.total} tickets: ${b.open} open, ${b.under_investigation} under investigation, ${b.paused} paused, ${b.resolved} resolved.`,
        summary,
      );
    },
  });

  tool({
    name: 'get_sla_metrics',
    title: 'SLA metrics',
    description: 'MTTA, MTTR (paused time excluded) and breach rate, overall and by group and priority.',
    readOnly: true,
    input: {
      group_id: z.uuid().optional(),
      priority: Priority.optional(),
      date_from: z.iso.datetime({ offset: true }).optional().describe('tickets created at or after'),
      date_to: z.iso.datetime({ offset: true }).optional().describe('tickets created before'),
    },
    output: z.object({
      overall: Figures,
      by_group: z.array(Figures.extend({ group_id: z.string().nullable(), group_name: z.string().nullable() })),
      by_priority: z.array(Figures.extend({ priority: z.string() })),
    }),
    run: async (f) => {
      const m = await dashboardSla(
        { principal: s.principal, db: s.deps.db },
        {
          group_id: f.group_id,
          priority: f.priority,
          date_from: f.date_from ? new Date(f.date_from) : undefined,
          date_to: f.date_to ? new Date(f.date_to) : undefined,
        },
      );
      const pick = <
        T extends {
          tickets: number;
          mtta_seconds: number | null;
          mttr_seconds: number | null;
          breached: number;
          breach_rate: number | null;
        },
      >(
        x: T,
      ) => ({
        tickets: x.tickets,
        mtta_seconds: x.mtta_seconds,
        mttr_seconds: x.mttr_seconds,
        breached: x.breached,
        breach_rate: x.breach_rate,
      });
      const o = m.overall;
      return ok(
        `${o.tickets} tickets: MTTA ${o.mtta_seconds ?? '–'} s, MTTR ${o.mttr_seconds ?? '–'} s, breach rate ${o.breach_rate ?? '–'}.`,
        {
          overall: pick(o),
          by_group: m.by_group.map((g) => ({ group_id: g.group_id, group_name: g.group_name, ...pick(g) })),
          by_priority: m.by_priority.map((p) => ({ priority: p.priority, ...pick(p) })),
        },
      );
    },
  });
}
