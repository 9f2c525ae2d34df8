/**
 * Ticket write tools: the same commands as the REST routes, with the commands' own input schemas.
 * Every write takes an optional `request_id`: a retry with the same id is answered from the first
 * call (like REST's Idempotency-Key) and never applied twice.
 *
 * A status tool's note is part of the change: the transition is checked before anything is sent,
 * then the status and the note go in one Update and are written in one version (both or neither;
 * no note when the status already was the one asked); a retry with the same request_id is answered
 * from the first call.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { claimIdempotencyKey } from '../../store/idempotency.js';
import { ticketCreator } from '../../commands/tickets/create.js';
import { findVisibleTicket } from '../../commands/tickets/read.js';
import { NOTHING_TO_CHANGE, type TicketChange } from '../../commands/tickets/inputs.js';
import { noteAdder, sanitizeNote } from '../../commands/tickets/notes.js';
import { ticketUpdater } from '../../commands/tickets/update.js';
import { ticketMerger } from '../../commands/tickets/merge.js';
import { conflict, validationFailed } from '../../errors/index.js';
import type { TicketStatus } from '../../../workflows/definitions.js';
import { TRANSITIONS } from '../../../workflows/ticket-state.js';
import { ok } from '../results.js';
import { ChangeFields, ChangeResult, CreateInput, NoteText, RequestId, Status, TicketRef } from '../schemas.js';
import { commandContextOf, type McpSession } from '../session.js';
import { failureLine, type ToolRegistrar } from '../server.js';
import { changedTicket } from '../views.js';

const MAX_BULK = 50;

/** A UUID derived from a request's id, so a retry addresses the same note (or ticket) again. */
export function derivedId(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

interface Answer {
  text: string;
  structured: Record<string, unknown>;
  /** false while pending: a retry with the same request_id should look again, not replay */
  final: boolean;
}

/**
 * Runs a write once per `request_id` (claimed like REST's Idempotency-Key, under the tool's name):
 * a finished one is answered from storage, an unfinished one resumes with the same resource id.
 */
async function once(
  s: McpSession,
  toolName: string,
  requestId: string | undefined,
  args: unknown,
  run: (resourceId: string, retried: boolean) => Promise<Answer>,
): Promise<CallToolResult> {
  if (!requestId) {
    const a = await run(randomUUID(), false);
    return ok(a.text, a.structured);
  }
  const claim = await claimIdempotencyKey(s.deps.db, {
    principal: s.principal.key,
    key: `mcp:${requestId}`,
    method: 'MCP',
    path: toolName,
    body: args,
  });
  if (claim.replay) {
    const stored = claim.replay.body as { text: string; structured: Record<string, unknown> };
    return ok(`${stored.text} (answered from the first call with this request_id; nothing was applied again)`, stored.structured);
  }
  const a = await run(claim.resourceId, true);
  if (a.final) await claim.complete(200, { text: a.text, structured: a.structured });
  return ok(a.text, a.structured);
}

const PENDING = {
  ticket_number: null,
  status: null,
  priority: null,
  assigned_group_id: null,
  assigned_user_id: null,
  version: null,
  pending: true,
};

type ChangeOutcome = Awaited<ReturnType<typeof ticketUpdater>>;

function changeAnswer(ref: string, verb: string, r: ChangeOutcome, extra: Record<string, unknown> = {}, note = ''): Answer {
  if (r.status === 'pending') {
    return {
      text: `${ref}: ${verb} accepted; it is applied as soon as a worker runs (id ${r.id}).${note}`,
      structured: { ...PENDING, id: r.id, ...extra },
      final: false,
    };
  }
  const t = changedTicket(r.ticket);
  const what = r.changed ? `${verb}: now` : `unchanged (it already was as asked): still`;
  return {
    text: `${t.ticket_number} ${what} ${t.status}, ${t.priority}, group ${t.assigned_group_id ?? 'none'}, user ${t.assigned_user_id ?? 'none'}, v${t.version}.${note}`,
    structured: { ...t, pending: false, changed: r.changed, ...extra },
    final: true,
  };
}

const CHANGE_FIELDS = Object.keys(ChangeFields);
const hasChange = (v: Record<string, unknown>, fields: string[]) => fields.some((f) => v[f] !== undefined);

export function registerTicketTools(tool: ToolRegistrar, s: McpSession): void {
  const ctx = () => commandContextOf(s);

  tool({
    name: 'create_ticket',
    title: 'Create a ticket',
    description: 'Open a new ticket; its SLA clocks start at once. Pass request_id to make a retry safe.',
    idempotent: false,
    input: CreateInput,
    output: ChangeResult,
    run: async ({ request_id, ...req }) =>
      once(s, 'create_ticket', request_id, req, async (resourceId, claimed) => {
        const result = await ticketCreator(ctx(), req, { ticketId: claimed ? resourceId : undefined });
        if (result.status === 'accepted') {
          return {
            text: `Ticket ${result.id} accepted; it appears as soon as a worker runs (get_ticket with this id then).`,
            structured: { ...PENDING, id: result.id },
            final: false,
          };
        }
        const t = changedTicket(result.ticket);
        return {
          text: `Created ${t.ticket_number} (id ${t.id}): ${t.status}, ${t.priority}, group ${t.assigned_group_id ?? 'none'}, user ${t.assigned_user_id ?? 'none'}.`,
          structured: { ...t, pending: false, changed: true },
          final: true,
        };
      }),
  });

  tool({
    name: 'update_ticket',
    title: 'Update a ticket',
    description: 'Change any of title, description, priority, status, category, tags, assignment. Fields you omit stay as they are.',
    destructive: true,
    idempotent: true,
    input: {
      ticket: TicketRef,
      ...ChangeFields,
      expected_version: z.number().int().min(1).optional().describe('fail if the ticket changed since this version'),
      request_id: RequestId,
    },
    refine: {
      check: (v) => hasChange(v, CHANGE_FIELDS),
      message: `update_ticket: ${NOTHING_TO_CHANGE} (${CHANGE_FIELDS.join(', ')}); nothing was done. To add a note use add_ticket_note.`,
    },
    output: ChangeResult,
    run: async ({ ticket, expected_version, request_id, ...patch }) =>
      once(s, 'update_ticket', request_id, { ticket, expected_version, patch }, async (resourceId) =>
        changeAnswer(ticket, 'updated', await ticketUpdater(ctx(), ticket, patch, expected_version ?? null, { requestId: resourceId })),
      ),
  });

  tool({
    name: 'assign_ticket',
    title: 'Assign a ticket',
    description: 'Assign to a group and/or a user (the user must be in the group); null clears.',
    destructive: true,
    idempotent: true,
    input: {
      ticket: TicketRef,
      assigned_group_id: ChangeFields.assigned_group_id,
      assigned_user_id: ChangeFields.assigned_user_id,
      request_id: RequestId,
    },
    refine: {
      check: (v) => hasChange(v, ['assigned_group_id', 'assigned_user_id']),
      message: 'assign_ticket needs assigned_group_id and/or assigned_user_id (null clears); nothing was done.',
    },
    output: ChangeResult,
    run: async ({ ticket, request_id, ...patch }) =>
      once(s, 'assign_ticket', request_id, { ticket, patch }, async (resourceId) =>
        changeAnswer(ticket, 'assigned', await ticketUpdater(ctx(), ticket, patch, null, { requestId: resourceId })),
      ),
  });

  tool({
    name: 'add_ticket_note',
    title: 'Add a note',
    description: 'Add a note to a ticket (internal by default; public notes are visible to the requester).',
    input: {
      ticket: TicketRef,
      content: NoteText.unwrap().describe('the note; simple HTML is kept, scripts removed'),
      is_internal: z.boolean().default(true).describe('false: visible to the requester'),
      request_id: RequestId,
    },
    output: z.object({ note_id: z.string(), pending: z.boolean() }),
    run: async ({ ticket, request_id, ...note }) =>
      once(s, 'add_ticket_note', request_id, { ticket, note }, async (resourceId, claimed) => {
        const r = await noteAdder(ctx(), ticket, note, { noteId: claimed ? resourceId : undefined });
        const id = r.status === 'applied' ? r.note.id : r.id;
        return r.status === 'applied'
          ? {
              text: `Note ${id} added to ${ticket} (${note.is_internal ? 'internal' : 'public'}).`,
              structured: { note_id: id, pending: false },
              final: true,
            }
          : {
              text: `Note ${id} to ${ticket} accepted; applied as soon as a worker runs.`,
              structured: { note_id: id, pending: true },
              final: false,
            };
      }),
  });

  /** A status change with its optional note: one change (see the file's comment). */
  const statusChange = async (
    name: string,
    verb: string,
    args: { ticket: string; note?: string; request_id?: string },
    to: TicketStatus,
    from?: { only: TicketStatus; why: string },
  ) =>
    once(s, name, args.request_id, { ...args, to }, async (resourceId, claimed) => {
      const current = await findVisibleTicket({ db: s.deps.db, principal: s.principal }, args.ticket);
      // a retry may find its own change applied already: the workflow answers it from memory
      const retryOfOwn = claimed && current.status === to;
      if (from && current.status !== from.only && !retryOfOwn) {
        throw conflict('invalid_transition', `${current.ticketNumber} is ${current.status}, not ${from.only}: ${from.why}`, {
          from: current.status,
          to,
          allowed: [...TRANSITIONS[current.status]],
        });
      }
      if (current.status !== to && !TRANSITIONS[current.status].includes(to)) {
        const allowed = TRANSITIONS[current.status];
        throw conflict(
          'invalid_transition',
          `A ${current.status} ticket cannot become ${to}; allowed: ${allowed.join(', ')}. Nothing was changed.`,
          {
            from: current.status,
            to,
            allowed,
          },
        );
      }
      // the note is checked before the status changes, so a note that would be refused refuses both
      if (args.note !== undefined && !sanitizeNote(args.note))
        throw validationFailed([{ in: 'body', path: 'note', message: 'is empty once unsafe HTML is removed' }]);
      const note = args.note === undefined ? undefined : { noteId: derivedId(`${resourceId}:note`), content: args.note, isInternal: true };
      // one Update: the status and its note are written in one version, or neither is
      const r = await ticketUpdater(ctx(), current.id, { status: to }, null, { requestId: `${name}-${resourceId}`, note });
      const statusChanged = r.status === 'pending' || r.changed;
      let noteId: string | null = null;
      let noteText = '';
      if (note && statusChanged) {
        noteId = note.noteId;
        noteText = r.status === 'applied' ? ` Internal note ${noteId} added.` : ` Internal note ${noteId} accepted.`;
      } else if (note) {
        noteText = ' The note was not added: nothing changed.';
      }
      return changeAnswer(current.ticketNumber, verb, r, { note_id: noteId }, noteText);
    });

  const statusInput = { ticket: TicketRef, note: NoteText, request_id: RequestId };
  tool({
    name: 'resolve_ticket',
    title: 'Resolve a ticket',
    description: 'Mark a ticket resolved (stops its resolve SLA clock), with an optional resolution note.',
    destructive: true,
    idempotent: true,
    input: statusInput,
    output: ChangeResult,
    run: (a) => statusChange('resolve_ticket', 'resolved', a, 'resolved'),
  });
  tool({
    name: 'pause_ticket',
    title: 'Pause a ticket',
    description: 'Pause an open or under_investigation ticket (e.g. waiting on the requester): every SLA clock stops.',
    destructive: true,
    idempotent: true,
    input: statusInput,
    output: ChangeResult,
    run: (a) => statusChange('pause_ticket', 'paused', a, 'paused'),
  });
  tool({
    name: 'reopen_ticket',
    title: 'Reopen a ticket',
    description: 'Reopen a resolved ticket (to open): its resolve clock resumes with the time already counted.',
    destructive: true,
    idempotent: true,
    input: statusInput,
    output: ChangeResult,
    run: (a) =>
      statusChange('reopen_ticket', 'reopened', a, 'open', {
        only: 'resolved',
        why: 'only a resolved ticket can be reopened. To change the status of an unresolved one use update_ticket (or resume_ticket for a paused one).',
      }),
  });
  tool({
    name: 'resume_ticket',
    title: 'Resume a ticket',
    description: 'Resume a paused ticket: its SLA clocks run again.',
    destructive: true,
    idempotent: true,
    input: {
      ...statusInput,
      status: Status.exclude(['paused', 'resolved', 'merged']).default('under_investigation').describe('status to resume to'),
    },
    output: ChangeResult,
    run: ({ status, ...a }) =>
      statusChange('resume_ticket', 'resumed', a, status, {
        only: 'paused',
        why: 'only a paused ticket can be resumed. Use reopen_ticket for a resolved one, update_ticket for other status changes.',
      }),
  });

  tool({
    name: 'merge_tickets',
    title: 'Merge a ticket into another',
    description: 'Merge a duplicate into the ticket to keep: it becomes merged (final, clocks stop); the kept one lists its notes.',
    destructive: true,
    idempotent: true,
    input: {
      ticket: TicketRef.describe('the duplicate'),
      into: TicketRef.describe('the ticket to keep'),
      note: NoteText,
      request_id: RequestId,
    },
    output: ChangeResult,
    run: async ({ ticket, into, note, request_id }) =>
      once(s, 'merge_tickets', request_id, { ticket, into, note }, async (resourceId, claimed) => {
        const r = await ticketMerger(ctx(), ticket, { target: into, note }, null, {
          requestId: resourceId,
          noteId: claimed ? derivedId(`${resourceId}:note`) : undefined,
        });
        return changeAnswer(ticket, `merged into ${into}`, r);
      }),
  });

  const bulkFields = ['status', 'priority', 'assigned_group_id', 'assigned_user_id', 'tags'] as const;
  tool({
    name: 'bulk_update_tickets',
    title: 'Update several tickets',
    description: `Apply the same change (status, priority, assignment, tags) to up to ${MAX_BULK} tickets; each succeeds or fails on its own.`,
    destructive: true,
    idempotent: true,
    input: {
      tickets: z.array(TicketRef).min(1).max(MAX_BULK).describe('ticket UUIDs or numbers'),
      status: ChangeFields.status,
      priority: ChangeFields.priority,
      assigned_group_id: ChangeFields.assigned_group_id,
      assigned_user_id: ChangeFields.assigned_user_id,
      tags: ChangeFields.tags,
      request_id: RequestId,
    },
    refine: {
      check: (v) => hasChange(v, [...bulkFields]),
      message: `bulk_update_tickets needs at least one of ${bulkFields.join(', ')}; nothing was done.`,
    },
    output: z.object({
      results: z.array(z.object({ ticket: z.string(), ok: z.boolean(), status: Status.nullable(), error: z.string().nullable() })),
      succeeded: z.number().int(),
      failed: z.number().int(),
    }),
    run: async ({ tickets, request_id, ...patch }) => {
      const fail = failureLine(s);
      const result = await once(s, 'bulk_update_tickets', request_id, { tickets, patch }, async (resourceId) => {
        const results = [];
        for (const ref of [...new Set(tickets)]) {
          try {
            const r = await ticketUpdater(ctx(), ref, patch as TicketChange, null, { requestId: derivedId(`${resourceId}:${ref}`) });
            results.push(
              r.status === 'pending'
                ? { ticket: ref, ok: true, status: null, error: null }
                : { ticket: r.ticket.ticketNumber, ok: true, status: r.ticket.status, error: null },
            );
          } catch (err) {
            results.push({ ticket: ref, ok: false, status: null, error: fail(err) });
          }
        }
        const succeeded = results.filter((r) => r.ok).length;
        const lines = results.map(
          (r) => `- ${r.ticket}: ${r.ok ? `ok${r.status ? `, now ${r.status}` : ', pending'}` : `failed: ${r.error}`}`,
        );
        return {
          text: [`${succeeded} of ${results.length} updated.`, ...lines].join('\n'),
          structured: { results, succeeded, failed: results.length - succeeded },
          final: true,
        };
      });
      const structured = result.structuredContent as { succeeded: number };
      return structured.succeeded === 0 ? { ...result, isError: true } : result;
    },
  });
}
