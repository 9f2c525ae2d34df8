/**
 * Ticket tools: the same commands, policies and presenters as the REST routes; MCP only adds the
 * shape an agent needs (compact results, a next page, actionable errors).
 */
import { z } from 'zod';
import { auditLister } from '../../commands/tickets/audit.js';
import { ticketCreator } from '../../commands/tickets/create.js';
import { findVisibleTicket } from '../../commands/tickets/find.js';
import { ticketLister } from '../../commands/tickets/list.js';
import { noteAdder } from '../../commands/tickets/notes.js';
import { ticketSlaReader } from '../../commands/tickets/sla.js';
import { ticketUpdater, type TicketPatch } from '../../commands/tickets/update.js';
import { notFound } from '../../errors/index.js';
import { presentAuditEntry } from '../../presenters/audit.js';
import { presentTicketSla } from '../../presenters/sla.js';
import { briefOf, presentTicket, presentTicketBrief } from '../../presenters/ticket.js';
import { ok } from '../results.js';
import { Page, pageFields, pageOf, Priority, Status, TicketBrief, TicketFull, TicketRef } from '../schemas.js';
import { commandContextOf, type McpSession } from '../session.js';
import type { ToolRegistrar } from '../server.js';

const PAGE_SIZE = 10;
const MAX_BULK = 50;

const fullTicket = (t: Parameters<typeof presentTicket>[0]) => {
  const p = presentTicket(t);
  return {
    ...briefOf(p),
    description: p.description,
    category: p.category,
    tags: p.tags,
    created_by_id: p.created_by_id,
    created_via: p.created_via,
    created_at: p.created_at,
  };
};

/** What a change returns: just enough to go on (get_ticket has the rest), so tools/list stays small. */
const changed = (t: Parameters<typeof presentTicketBrief>[0]) => {
  const b = presentTicketBrief(t);
  return {
    id: b.id,
    ticket_number: b.ticket_number,
    status: b.status,
    priority: b.priority,
    assigned_group_id: b.assigned_group_id,
    assigned_user_id: b.assigned_user_id,
    version: b.version,
  };
};

/** Apply a PATCH through the ticket's workflow; a change still pending (workers slow) is reported as such. */
async function change(s: McpSession, ref: string, patch: TicketPatch, expectedVersion: number | null = null) {
  const result = await ticketUpdater(commandContextOf(s), ref, patch, expectedVersion);
  if (result.status === 'pending') return { ticket: null, pending: true };
  return { ticket: changed(result.ticket), pending: false };
}

const ChangeResult = z.object({
  ticket: TicketBrief.pick({
    id: true,
    ticket_number: true,
    status: true,
    priority: true,
    assigned_group_id: true,
    assigned_user_id: true,
    version: true,
  })
    .nullable()
    .describe('null while pending'),
  pending: z.boolean(),
});

const summary = (verb: string, r: Awaited<ReturnType<typeof change>>, ref: string) =>
  r.pending
    ? `${ref}: ${verb} accepted; it is applied as soon as a worker runs.`
    : `${r.ticket!.ticket_number} ${verb}: now ${r.ticket!.status}, ${r.ticket!.priority}.`;

export function registerTicketTools(tool: ToolRegistrar, s: McpSession, writes: boolean): void {
  tool({
    name: 'list_tickets',
    title: 'List tickets',
    description: 'Find tickets you may see: filter by status, priority, group, assignee or SLA breach; search words or an ASM- number.',
    readOnly: true,
    input: {
      search: z.string().max(200).optional().describe('words in title/description, or a ticket number'),
      status: z.array(Status).optional(),
      priority: z.array(Priority).optional(),
      assigned_group_id: z.uuid().optional(),
      assigned_user_id: z.uuid().optional(),
      sla_breached: z.boolean().optional(),
      page: Page,
      page_size: z.number().int().min(1).max(25).default(PAGE_SIZE),
    },
    output: pageOf(TicketBrief),
    run: async (args) => {
      const { results, total } = await ticketLister(commandContextOf(s), { ...args, sort_by: 'priority', sort_order: 'asc' });
      const page = pageFields(
        results.map((t) => presentTicketBrief(t)),
        total,
        args.page,
        args.page_size,
      );
      return ok(`${total} ticket(s); showing ${results.length}${page.next_page ? `, more on page ${page.next_page}` : ''}.`, page);
    },
  });

  tool({
    name: 'get_ticket',
    title: 'Get a ticket',
    description: 'One ticket in full, with its SLA state.',
    readOnly: true,
    input: { ticket: TicketRef },
    output: TicketFull,
    run: async ({ ticket }) => {
      const t = await findVisibleTicket(s.deps.db, s.principal, ticket);
      return ok(`${t.ticketNumber} "${t.title}": ${t.status}, ${t.priority}.`, fullTicket(t));
    },
  });

  tool({
    name: 'get_ticket_audit_log',
    title: 'Ticket audit log',
    description: "A ticket's change history: who changed which field from what to what, oldest first.",
    readOnly: true,
    input: { ticket: TicketRef, page: Page },
    output: pageOf(
      z.object({
        action: z.string(),
        field_changed: z.string().nullable(),
        old_value: z.unknown(),
        new_value: z.unknown(),
        actor_type: z.string(),
        actor_id: z.string().nullable(),
        created_at: z.string(),
      }),
    ),
    run: async ({ ticket, page }) => {
      const { results, total } = await auditLister(commandContextOf(s), ticket, { page, page_size: 25 });
      const items = results.map((a) => {
        const e = presentAuditEntry(a);
        return {
          action: e.action,
          field_changed: e.field_changed,
          old_value: e.old_value,
          new_value: e.new_value,
          actor_type: e.actor_type,
          actor_id: e.actor_id,
          created_at: e.created_at,
        };
      });
      return ok(`${total} audit entr${total === 1 ? 'y' : 'ies'} for ${ticket}.`, pageFields(items, total, page, 25));
    },
  });

  tool({
    name: 'get_ticket_sla',
    title: 'Ticket SLA',
    description: "A ticket's live SLA per metric (assign, resolve) with the timeline that explains it.",
    readOnly: true,
    input: { ticket: TicketRef },
    output: z.object({
      ticket_number: z.string(),
      assign: z.record(z.string(), z.unknown()),
      resolve: z.record(z.string(), z.unknown()),
      timeline: z.array(z.record(z.string(), z.unknown())),
    }),
    run: async ({ ticket }) => {
      const { ticket: t, view, source } = await ticketSlaReader(commandContextOf(s), ticket);
      if (!view) throw notFound('SLA of this ticket');
      const sla = presentTicketSla(t, view, source, new Date());
      const line = (m: 'assign' | 'resolve') => `${m} ${sla[m].state}${sla[m].due_at ? ` (due ${sla[m].due_at})` : ''}`;
      return ok(`${t.ticketNumber}: ${line('assign')}; ${line('resolve')}.`, {
        ticket_number: sla.ticket_number,
        assign: sla.assign,
        resolve: sla.resolve,
        timeline: sla.timeline.slice(-50),
      });
    },
  });

  if (!writes) return;

  tool({
    name: 'create_ticket',
    title: 'Create a ticket',
    description: 'Open a new ticket; its SLA clocks start at once.',
    input: {
      title: z.string().trim().min(1).max(200),
      description: z.string().max(20_000).default(''),
      priority: Priority.default('medium'),
      category: z.string().max(100).optional(),
      tags: z.array(z.string().min(1).max(50)).max(20).default([]),
      assigned_group_id: z.uuid().optional().describe('from list_groups'),
      assigned_user_id: z.uuid().optional().describe('from list_users; must be in the group'),
    },
    output: ChangeResult,
    run: async (a) => {
      const result = await ticketCreator(commandContextOf(s), {
        title: a.title,
        description: a.description,
        priority: a.priority,
        category: a.category ?? null,
        tags: a.tags,
        assigned_group_id: a.assigned_group_id ?? null,
        assigned_user_id: a.assigned_user_id ?? null,
      });
      if (result.status === 'accepted')
        return ok(`Ticket ${result.id} accepted; it appears as soon as a worker runs.`, { ticket: null, pending: true });
      const t = changed(result.ticket);
      return ok(`Created ${t.ticket_number} (${t.priority}).`, { ticket: t, pending: false });
    },
  });

  tool({
    name: 'update_ticket',
    title: 'Update a ticket',
    description:
      'Change title, description, priority, status, category or tags. Status moves: open↔under_investigation, either→paused→back, any→resolved, resolved→open.',
    idempotent: true,
    input: {
      ticket: TicketRef,
      title: z.string().trim().min(1).max(200).optional(),
      description: z.string().max(20_000).optional(),
      priority: Priority.optional(),
      status: Status.optional(),
      category: z.string().max(100).nullable().optional(),
      tags: z.array(z.string().min(1).max(50)).max(20).optional(),
      expected_version: z.number().int().min(1).optional().describe('fail if the ticket changed since this version'),
    },
    output: ChangeResult,
    run: async ({ ticket, expected_version, ...patch }) => {
      const r = await change(s, ticket, patch, expected_version ?? null);
      return ok(summary('updated', r, ticket), r);
    },
  });

  tool({
    name: 'assign_ticket',
    title: 'Assign a ticket',
    description: 'Assign to a group and/or a user (the user must be a member of the group); null clears.',
    idempotent: true,
    input: {
      ticket: TicketRef,
      group_id: z.uuid().nullable().optional().describe('from list_groups'),
      user_id: z.uuid().nullable().optional().describe('from list_users'),
    },
    output: ChangeResult,
    run: async ({ ticket, group_id, user_id }) => {
      const r = await change(s, ticket, { assigned_group_id: group_id, assigned_user_id: user_id });
      return ok(summary('assigned', r, ticket), r);
    },
  });

  tool({
    name: 'add_ticket_note',
    title: 'Add a note',
    description: 'Add a note to a ticket (internal by default; public notes are visible to the requester).',
    input: { ticket: TicketRef, content: z.string().min(1).max(20_000), is_internal: z.boolean().default(true) },
    output: z.object({ note_id: z.string(), pending: z.boolean() }),
    run: async ({ ticket, content, is_internal }) => {
      const r = await noteAdder(commandContextOf(s), ticket, { content, is_internal });
      const id = r.status === 'applied' ? r.note.id : r.id;
      return ok(r.status === 'applied' ? `Note added to ${ticket}.` : `Note to ${ticket} accepted; applied as soon as a worker runs.`, {
        note_id: id,
        pending: r.status === 'pending',
      });
    },
  });

  const withNote = async (ticket: string, note: string | undefined) => {
    if (note) await noteAdder(commandContextOf(s), ticket, { content: note, is_internal: true });
  };
  const statusTool = (
    name: string,
    title: string,
    description: string,
    to: 'resolved' | 'paused' | 'open',
    noteLabel: string,
    verb: string,
  ) =>
    tool({
      name,
      title,
      description,
      idempotent: true,
      input: { ticket: TicketRef, [noteLabel]: z.string().min(1).max(20_000).optional().describe('added as an internal note') },
      output: ChangeResult,
      run: async (a) => {
        const args = a as { ticket: string } & Record<string, string | undefined>;
        await withNote(args.ticket, args[noteLabel]);
        const r = await change(s, args.ticket, { status: to });
        return ok(summary(verb, r, args.ticket), r);
      },
    });
  statusTool(
    'resolve_ticket',
    'Resolve a ticket',
    'Mark a ticket resolved (stops its resolve SLA clock).',
    'resolved',
    'resolution',
    'resolved',
  );
  statusTool(
    'pause_ticket',
    'Pause a ticket',
    'Pause a ticket (e.g. waiting on the requester): every SLA clock stops.',
    'paused',
    'reason',
    'paused',
  );
  statusTool(
    'reopen_ticket',
    'Reopen a ticket',
    'Reopen a resolved ticket: its resolve clock resumes with the time already counted.',
    'open',
    'reason',
    'reopened',
  );

  tool({
    name: 'resume_ticket',
    title: 'Resume a ticket',
    description: 'Resume a paused ticket: its SLA clocks run again.',
    idempotent: true,
    input: { ticket: TicketRef, status: z.enum(['open', 'under_investigation']).default('under_investigation') },
    output: ChangeResult,
    run: async ({ ticket, status }) => {
      const r = await change(s, ticket, { status });
      return ok(summary('resumed', r, ticket), r);
    },
  });

  tool({
    name: 'bulk_update_tickets',
    title: 'Update several tickets',
    description: `Apply the same change (status, priority, assignment, tags) to up to ${MAX_BULK} tickets; each succeeds or fails on its own.`,
    idempotent: true,
    input: {
      tickets: z.array(TicketRef).min(1).max(MAX_BULK),
      status: Status.optional(),
      priority: Priority.optional(),
      assigned_group_id: z.uuid().nullable().optional(),
      assigned_user_id: z.uuid().nullable().optional(),
      tags: z.array(z.string().min(1).max(50)).max(20).optional(),
    },
    output: z.object({
      results: z.array(z.object({ ticket: z.string(), ok: z.boolean(), status: Status.nullable(), error: z.string().nullable() })),
      succeeded: z.number().int(),
      failed: z.number().int(),
    }),
    run: async ({ tickets, ...patch }, fail) => {
      const results = [];
      for (const ref of [...new Set(tickets)]) {
        try {
          const r = await change(s, ref, patch);
          results.push({ ticket: r.ticket?.ticket_number ?? ref, ok: true, status: r.ticket?.status ?? null, error: null });
        } catch (err) {
          results.push({ ticket: ref, ok: false, status: null, error: fail(err) });
        }
      }
      const succeeded = results.filter((r) => r.ok).length;
      const structured = { results, succeeded, failed: results.length - succeeded };
      const result = ok(
        `${succeeded} of ${results.length} ticket(s) updated${succeeded < results.length ? '; see results for the failures' : ''}.`,
        structured,
      );
      return succeeded === 0 ? { ...result, isError: true } : result;
    },
  });
}
