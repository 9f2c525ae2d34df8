/**
 * Read-only ticket tools: find, read, notes, history, SLA, attachments. The same commands,
 * policies and presenters as the REST routes; the text content carries what a model needs to act.
 */
import { open } from 'node:fs/promises';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { attachmentFinder, attachmentLister } from '../../commands/tickets/attachments.js';
import { auditLister } from '../../commands/tickets/audit.js';
import { findVisibleTicket } from '../../commands/tickets/read.js';
import { DateOrInstant, instantOf, TicketFields } from '../../commands/tickets/inputs.js';
import { ticketLister } from '../../commands/tickets/list.js';
import { noteLister } from '../../commands/tickets/notes.js';
import { ticketSlaReader } from '../../commands/tickets/sla.js';
import { ticketBreachLister } from '../../commands/sla/preview-commands.js';
import { AppError, notFound } from '../../errors/index.js';
import { TICKET_NUMBER_PATTERN } from '../../../workflows/vocabulary.js';
import { presentAuditEntry } from '../../presenters/audit.js';
import { presentTicketSla } from '../../presenters/sla.js';
import { presentTicketBrief } from '../../presenters/ticket.js';
import { count, ok, pagingLine, ticketLine } from '../results.js';
import {
  AuditItem,
  GroupId,
  NoteItem,
  Page,
  pageFields,
  pageOf,
  pickFields,
  Priority,
  Status,
  TicketBrief,
  TicketFull,
  TicketRef,
  UserId,
} from '../schemas.js';
import { commandContextOf, type McpSession } from '../session.js';
import type { ToolRegistrar } from '../server.js';
import { fullTicket, noteItem, noteLines } from '../views.js';

const PAGE_SIZE = 10;
const NOTES_PAGE_SIZE = 20;
const AUDIT_PAGE_SIZE = 25;
/** read_attachment returns at most this much text */
export const MAX_ATTACHMENT_TEXT = 100_000;

export function registerTicketReads(tool: ToolRegistrar, s: McpSession): void {
  tool({
    name: 'list_tickets',
    title: 'List tickets',
    description:
      'Find tickets you may see. Order: most urgent first (critical→low, then newest); with search, best match first. sort_by/sort_order change it.',
    readOnly: true,
    input: {
      search: TicketFields.search.optional().describe('web-search syntax ("vpn -printer", "exact phrase", or), or a number ASM-0001'),
      status: z.array(Status).optional().describe('any of these statuses'),
      priority: z.array(Priority).optional().describe('any of these priorities'),
      assigned_group_id: GroupId.optional(),
      assigned_user_id: UserId.optional(),
      tag: TicketFields.tag.optional().describe('has this tag'),
      category: TicketFields.category.optional().describe('this category'),
      sla_breached: z.boolean().optional().describe('true: any SLA breached'),
      updated_since: DateOrInstant.optional().describe('changed at or after (date or ISO instant)'),
      sort_by: TicketFields.sort_by
        .extract(['priority', 'updated_at', 'created_at', 'ticket_number'])
        .optional()
        .describe('default priority (relevance when searching)'),
      sort_order: TicketFields.sort_order.default('desc').describe('desc: most urgent / newest / highest first'),
      page: Page,
      page_size: z.number().int().min(1).max(25).default(PAGE_SIZE).describe('1–25'),
    },
    output: pageOf(TicketBrief),
    run: async ({ updated_since, sort_by, sort_order, ...args }) => {
      const words = args.search !== undefined && !TICKET_NUMBER_PATTERN.test(args.search);
      const sort = sort_by ?? (words ? undefined : 'priority');
      const { results, total } = await ticketLister(commandContextOf(s), {
        ...args,
        updated_since: instantOf(updated_since, 'from'),
        sort_by: sort,
        sort_order,
      });
      const items = results.map((t) => presentTicketBrief(t));
      const page = pageFields(items, total, args.page, args.page_size);
      const order = sort ? `by ${sort} ${sort_order}` : 'best match first';
      return ok([`${pagingLine(page, items.length, 'ticket')} Order: ${order}.`, ...items.map(ticketLine)].join('\n'), page);
    },
  });

  tool({
    name: 'get_ticket',
    title: 'Get a ticket',
    description: 'One ticket in full: SLA state, the statuses it may move to (allowed_next) and its recent notes.',
    readOnly: true,
    input: { ticket: TicketRef },
    output: TicketFull,
    run: async ({ ticket }) => {
      const t = await fullTicket(s, await findVisibleTicket({ db: s.deps.db, principal: s.principal }, ticket));
      const text = [
        ticketLine(t),
        `Category ${t.category ?? 'none'}; tags ${t.tags.join(', ') || 'none'}; created ${t.created_at} via ${t.created_via}.`,
        `Allowed next statuses: ${t.allowed_next.join(', ')}.`,
        `Description: ${JSON.stringify(t.description)}`,
        t.recent_notes.length ? `Recent notes (newest first):\n${noteLines(t.recent_notes).join('\n')}` : 'No notes.',
      ];
      return ok(text.join('\n'), t);
    },
  });

  tool({
    name: 'list_ticket_notes',
    title: 'Ticket notes',
    description: "A ticket's notes (internal and public), oldest first unless newest_first.",
    readOnly: true,
    input: {
      ticket: TicketRef,
      newest_first: z.boolean().default(false).describe('newest first instead'),
      page: Page,
    },
    output: pageOf(NoteItem),
    run: async ({ ticket, newest_first, page }) => {
      const { results, total } = await noteLister(commandContextOf(s), ticket, { page, page_size: NOTES_PAGE_SIZE, newest_first });
      const items = results.map(noteItem);
      const fields = pageFields(items, total, page, NOTES_PAGE_SIZE);
      return ok([`${ticket}: ${pagingLine(fields, items.length, 'note')}`, ...noteLines(items)].join('\n'), fields);
    },
  });

  tool({
    name: 'get_ticket_audit_log',
    title: 'Ticket audit log',
    description: "A ticket's change history: who changed which field from what to what, oldest first.",
    readOnly: true,
    input: { ticket: TicketRef, page: Page },
    output: pageOf(AuditItem),
    run: async ({ ticket, page }) => {
      const { results, total } = await auditLister(commandContextOf(s), ticket, { page, page_size: AUDIT_PAGE_SIZE });
      const items = results.map((a) => pickFields(AuditItem, presentAuditEntry(a)));
      const fields = pageFields(items, total, page, AUDIT_PAGE_SIZE);
      const lines = items.map((e) =>
        `- ${e.created_at} ${e.action}${e.field_changed ? ` ${e.field_changed}: ${JSON.stringify(e.old_value)} → ${JSON.stringify(e.new_value)}` : ''} by ${e.actor_type} ${e.actor_id ?? ''}`.trimEnd(),
      );
      return ok([`${ticket}: ${pagingLine(fields, items.length, 'audit entry')}`, ...lines].join('\n'), fields);
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
      policy: z
        .object({ rule_id: z.string().nullable(), name: z.string(), version: z.number().int() })
        .nullable()
        .describe('the SLA policy the clocks run on (rule_id null: the priority default)'),
      assign: z.record(z.string(), z.unknown()),
      resolve: z.record(z.string(), z.unknown()),
      timeline: z.array(z.record(z.string(), z.unknown())),
      breaches: z.array(z.record(z.string(), z.unknown())),
    }),
    run: async ({ ticket }) => {
      const { ticket: t, view, source } = await ticketSlaReader(commandContextOf(s), ticket);
      if (!view) throw notFound('SLA of this ticket');
      const sla = presentTicketSla(t, view, source, new Date(), await ticketBreachLister(commandContextOf(s), t.id));
      const line = (m: 'assign' | 'resolve') =>
        `${m} ${sla[m].state}${sla[m].at_risk ? ' (at risk)' : ''}: ${sla[m].elapsed_seconds} of ${sla[m].target_seconds} s${sla[m].due_at ? `, due ${sla[m].due_at}` : ''}`;
      const timeline = sla.timeline.slice(-50);
      return ok(
        `${t.ticketNumber} SLA: ${line('assign')}; ${line('resolve')}. Breaches recorded: ${sla.breaches.length}; ${count(timeline.length, 'timeline entry')} in structuredContent.`,
        {
          ticket_number: sla.ticket_number,
          policy: sla.policy,
          assign: sla.assign,
          resolve: sla.resolve,
          timeline,
          breaches: sla.breaches,
        },
      );
    },
  });

  tool({
    name: 'list_ticket_attachments',
    title: 'Ticket attachments',
    description: "A ticket's attached files (read text ones with read_attachment).",
    readOnly: true,
    input: { ticket: TicketRef },
    output: z.object({
      items: z.array(
        z.object({ id: z.string(), filename: z.string(), content_type: z.string(), size_bytes: z.number().int(), created_at: z.string() }),
      ),
    }),
    run: async ({ ticket }) => {
      const items = (await attachmentLister(commandContextOf(s), ticket)).map((a) => ({
        id: a.id,
        filename: a.originalFilename,
        content_type: a.contentType,
        size_bytes: Number(a.sizeBytes),
        created_at: a.createdAt.toISOString(),
      }));
      const lines = items.map((a) => `- ${a.id} ${JSON.stringify(a.filename)} ${a.content_type}, ${a.size_bytes} bytes`);
      return ok([`${ticket}: ${count(items.length, 'attachment')}.`, ...lines].join('\n'), { items });
    },
  });

  tool({
    name: 'read_attachment',
    title: 'Read an attachment',
    description: `The text of a text attachment (text/*, JSON, XML, CSV), at most ${MAX_ATTACHMENT_TEXT / 1000} kB.`,
    readOnly: true,
    input: { attachment_id: z.uuid().describe('from list_ticket_attachments') },
    output: z.object({ id: z.string(), filename: z.string(), content_type: z.string(), text: z.string(), truncated: z.boolean() }),
    run: async ({ attachment_id }) => {
      const { attachment, file } = await attachmentFinder(commandContextOf(s), attachment_id);
      return readTextAttachment(attachment, file);
    },
  });
}

const TEXT_TYPES = /^(text\/|application\/(json|xml|csv|x-ndjson)\b)/;

async function readTextAttachment(
  a: { id: string; originalFilename: string; contentType: string; sizeBytes: number },
  file: string,
): Promise<CallToolResult> {
  if (!TEXT_TYPES.test(a.contentType)) {
    throw new AppError(422, 'not_text', `${a.originalFilename} is ${a.contentType}, not text; only text attachments can be read here.`);
  }
  const handle = await open(file, 'r');
  try {
    const size = Number(a.sizeBytes);
    const buf = Buffer.alloc(Math.min(size, MAX_ATTACHMENT_TEXT));
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    // cut at a whole character: a trailing partial UTF-8 sequence decodes to U+FFFD, dropped here
    const text = buf
      .subarray(0, bytesRead)
      .toString('utf8')
      .replace(/\uFFFD+$/, '');
    const truncated = size > bytesRead;
    return ok(`${a.originalFilename} (${a.contentType}, ${size} bytes${truncated ? `, first ${bytesRead} shown` : ''}):\n${text}`, {
      id: a.id,
      filename: a.originalFilename,
      content_type: a.contentType,
      text,
      truncated,
    });
  } finally {
    await handle.close();
  }
}
