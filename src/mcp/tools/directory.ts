/** Read-only tools over people and figures: who am I and my queue, groups, users, the dashboard and SLA metrics. */
import { z } from 'zod';
import { dashboardSla, dashboardSummary, slaRange } from '../../commands/dashboard.js';
import { groupLister, memberGroups } from '../../commands/groups.js';
import { UserFields } from '../../commands/inputs.js';
import { DateOrInstant } from '../../commands/tickets/inputs.js';
import { ticketLister } from '../../commands/tickets/list.js';
import { userLister } from '../../commands/users.js';
import { presentGroup } from '../../presenters/group.js';
import { presentTicketBrief } from '../../presenters/ticket.js';
import { presentUser } from '../../presenters/user.js';
import { count, ok, pagingLine, ticketLine } from '../results.js';
import { GroupId, Page, pageFields, pageOf, Priority, TicketBrief } from '../schemas.js';
import type { McpSession } from '../session.js';
import { TICKET_STATUSES } from '../../../workflows/vocabulary.js';
import type { ToolRegistrar } from '../server.js';

const PAGE_SIZE = 25;

const Figures = z.object({
  tickets: z.number(),
  mtta_seconds: z.number().nullable(),
  mttr_seconds: z.number().nullable(),
  breached: z.number(),
  breach_rate: z.number().nullable(),
});

const QUEUE_SIZE = 10;
const QueueItem = TicketBrief.pick({ ticket_number: true, title: true, status: true, priority: true, assigned_user_id: true }).extend({
  resolve_due_at: z.string().nullable(),
  breached: z.boolean(),
});

export function registerDirectoryTools(tool: ToolRegistrar, s: McpSession): void {
  tool({
    name: 'whoami',
    title: 'Who am I, and my queue',
    description:
      "This API key's user, role, scopes and groups, and the unresolved tickets assigned to it or its groups, most urgent first.",
    readOnly: true,
    input: { page: Page },
    output: z.object({
      user: z.object({ id: z.string(), username: z.string(), full_name: z.string(), role: z.string() }),
      scopes: z.array(z.string()).nullable(),
      groups: z.array(z.object({ id: z.string(), name: z.string() })),
      queue: pageOf(QueueItem).describe('list_tickets gives more of each'),
    }),
    run: async ({ page }) => {
      const me = presentUser(s.principal.user);
      const groups = (await memberGroups({ db: s.deps.db }, me.id)).map((g) => ({ id: g.id, name: g.name }));
      const groupIds = groups.map((g) => g.id);
      const { results, total } = await ticketLister(
        { principal: s.principal, db: s.deps.db },
        {
          page,
          page_size: QUEUE_SIZE,
          status: TICKET_STATUSES.filter((st) => st !== 'resolved' && st !== 'merged'),
          assigned_to_any: { user_id: me.id, group_ids: groupIds },
          sort_by: 'priority',
          sort_order: 'desc',
        },
      );
      const briefs = results.map((t) => presentTicketBrief(t));
      const items = briefs.map((b) => ({
        ticket_number: b.ticket_number,
        title: b.title,
        status: b.status,
        priority: b.priority,
        assigned_user_id: b.assigned_user_id,
        resolve_due_at: b.sla.resolve.due_at,
        breached: b.sla.assign.state === 'breached' || b.sla.resolve.state === 'breached',
      }));
      const queue = pageFields(items, total, page, QUEUE_SIZE);
      const text = [
        `You are ${me.username} (${me.full_name}, id ${me.id}), role ${s.principal.role}; key scopes ${s.principal.scopes?.length ? s.principal.scopes.join(', ') : 'all of the role'}.`,
        `Groups: ${groups.map((g) => `${g.name} (${g.id})`).join(', ') || 'none'}.`,
        `Queue (unresolved, assigned to you or your groups, most urgent first): ${pagingLine(queue, items.length, 'ticket')}`,
        ...briefs.map(ticketLine),
      ];
      return ok(text.join('\n'), {
        user: { id: me.id, username: me.username, full_name: me.full_name, role: me.role },
        scopes: s.principal.scopes,
        groups,
        queue,
      });
    },
  });

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
      const fields = pageFields(items, total, page, PAGE_SIZE);
      const lines = items.map(
        (g) => `- ${g.id} ${JSON.stringify(g.name)}${g.member_count !== undefined ? `, ${count(g.member_count, 'member')}` : ''}`,
      );
      return ok([pagingLine(fields, items.length, 'group'), ...lines].join('\n'), fields);
    },
  });

  tool({
    name: 'list_users',
    title: 'List users',
    description: 'People who can be assigned tickets; filter by group, role or a name.',
    readOnly: true,
    input: {
      search: UserFields.search.optional().describe('part of a username, name or e-mail'),
      group_id: UserFields.group_id.optional().describe('members of this group (list_groups)'),
      role: UserFields.role.optional().describe('only this role'),
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
      const fields = pageFields(items, total, page, PAGE_SIZE);
      const lines = items.map((u) => `- ${u.id} ${u.username} (${JSON.stringify(u.full_name)}, ${u.role})`);
      return ok([pagingLine(fields, items.length, 'active user'), ...lines].join('\n'), fields);
    },
  });

  // Dashboards are for admins and managers: agents' keys are not offered these tools.
  tool({
    name: 'get_dashboard_summary',
    title: 'Dashboard summary',
    description: 'Ticket counts by status and priority, and unresolved tickets per group.',
    readOnly: true,
    audience: 'dashboards',
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
        [
          `${count(summary.total, 'ticket')}: ${b.open} open, ${b.under_investigation} under investigation, ${b.paused} paused, ${b.waiting_on_customer} waiting on customer, ${b.resolved} resolved.`,
          `By priority: ${Object.entries(summary.by_priority)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}.`,
          `Unresolved by group: ${summary.by_group.map((g) => `${String(g.group_name ?? 'unassigned')} ${String(g.count)}`).join(', ') || 'none'}.`,
        ].join('\n'),
        summary,
      );
    },
  });

  tool({
    name: 'get_sla_metrics',
    title: 'SLA metrics',
    description: 'MTTA, MTTR (paused time excluded) and breach rate, overall and by group and priority.',
    readOnly: true,
    audience: 'dashboards',
    input: {
      group_id: GroupId.optional().describe('only this group (list_groups)'),
      priority: Priority.optional().describe('only this priority'),
      date_from: DateOrInstant.optional().describe('created at or after (a date: its start, UTC)'),
      date_to: DateOrInstant.optional().describe('created before (a date: the end of that day, UTC)'),
    },
    output: z.object({
      overall: Figures,
      by_group: z.array(z.record(z.string(), z.unknown())).describe("overall's figures with group_id, group_name"),
      by_priority: z.array(z.record(z.string(), z.unknown())).describe("overall's figures with priority"),
    }),
    run: async (f) => {
      const range = slaRange(f);
      const m = await dashboardSla({ principal: s.principal, db: s.deps.db }, { group_id: f.group_id, priority: f.priority, ...range });
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
      const figures = (x: Parameters<typeof pick>[0]) =>
        `${count(x.tickets, 'ticket')}, MTTA ${x.mtta_seconds ?? '–'} s, MTTR ${x.mttr_seconds ?? '–'} s, ${x.breached} breached (rate ${x.breach_rate ?? '–'})`;
      return ok(
        [
          `Overall: ${figures(o)}.`,
          ...m.by_group.map((g) => `Group ${g.group_name ?? 'unassigned'} (${g.group_id ?? '-'}): ${figures(g)}.`),
          ...m.by_priority.map((p) => `Priority ${p.priority}: ${figures(p)}.`),
        ].join('\n'),
        {
          overall: pick(o),
          by_group: m.by_group.map((g) => ({ group_id: g.group_id, group_name: g.group_name, ...pick(g) })),
          by_priority: m.by_priority.map((p) => ({ priority: p.priority, ...pick(p) })),
        },
      );
    },
  });
}
