/**
 * Ticket resources (`servicemeow://tickets/{number}`, with the recent notes), the triage prompt,
 * and completions of ticket numbers for both. A ticket that does not exist (or is not visible) is
 * the JSON-RPC error the MCP spec names: -32002 for a resource, -32602 (invalid params) for a
 * prompt argument.
 */
import { completable } from '@modelcontextprotocol/sdk/server/completable.js';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { findVisibleTicket } from '../commands/tickets/read.js';
import { TICKET_REF_PATTERN } from '../../workflows/vocabulary.js';
import { ticketLister } from '../commands/tickets/list.js';
import { AppError } from '../errors/index.js';
import { presentTicket } from '../presenters/ticket.js';
import { ticketRefSchema } from './schemas.js';
import type { McpSession } from './session.js';
import { allowedNext, noteLines, recentNotes } from './views.js';

/** MCP's "resource not found" (the spec names it; the SDK has no constant for it). */
export const RESOURCE_NOT_FOUND = -32002;

/** Ticket numbers the caller may see that start with what was typed (most recently updated first). */
async function completeTicketNumber(s: McpSession, typed: string | undefined): Promise<string[]> {
  const prefix = (typed ?? '').trim().toUpperCase();
  if (prefix && !/^A(S(M(-\d*)?)?)?$/.test(prefix)) return [];
  const { results } = await ticketLister(
    { principal: s.principal, db: s.deps.db },
    { page: 1, page_size: 100, sort_by: 'updated_at', sort_order: 'desc', number_prefix: prefix || undefined },
  ).catch((err: unknown) => {
    // a completion is a convenience: the client gets none, the log says why
    s.logger.warn({ err, requestId: s.requestId }, 'ticket number completion failed');
    return { results: [] };
  });
  return results.map((t) => t.ticketNumber).slice(0, 100);
}

async function visibleTicket(s: McpSession, ref: string, notFoundCode: number) {
  try {
    if (!TICKET_REF_PATTERN.test(ref)) throw new AppError(404, 'not_found', 'Ticket not found.');
    return await findVisibleTicket({ db: s.deps.db, principal: s.principal }, ref);
  } catch (err) {
    if (err instanceof AppError && err.code === 'not_found')
      throw new McpError(notFoundCode, `Ticket ${ref} not found (or not visible to you). Use list_tickets to find ticket numbers.`, {
        ticket: ref,
      });
    throw err;
  }
}

export function registerTicketResources(server: McpServer, s: McpSession): void {
  server.registerResource(
    'ticket',
    new ResourceTemplate('servicemeow://tickets/{number}', {
      list: async () => {
        const { results } = await ticketLister(
          { principal: s.principal, db: s.deps.db },
          { page: 1, page_size: 25, sort_by: 'updated_at', sort_order: 'desc' },
        );
        return {
          resources: results.map((t) => ({
            uri: `servicemeow://tickets/${t.ticketNumber}`,
            name: t.ticketNumber,
            title: t.title,
            mimeType: 'application/json',
          })),
        };
      },
      complete: { number: (value) => completeTicketNumber(s, value) },
    }),
    {
      title: 'Ticket',
      description: 'A ticket as JSON (the REST representation, SLA included) with its allowed next statuses and recent notes.',
      mimeType: 'application/json',
    },
    async (uri, { number }) => {
      const ticket = await visibleTicket(s, String(number), RESOURCE_NOT_FOUND);
      const body = { ...presentTicket(ticket), allowed_next: allowedNext(ticket), recent_notes: await recentNotes(s, ticket.id) };
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(body) }] };
    },
  );

  server.registerPrompt(
    'triage_ticket',
    {
      title: 'Triage a ticket',
      description: 'Propose priority, group and next step for a ticket, using the tools.',
      argsSchema: { ticket: completable(ticketRefSchema(), (value) => completeTicketNumber(s, value)) },
    },
    async ({ ticket }) => {
      const t = await visibleTicket(s, ticket, ErrorCode.InvalidParams);
      const p = presentTicket(t);
      const notes = await recentNotes(s, t.id);
      return {
        description: `Triage ${p.ticket_number}`,
        messages: [
          {
            role: 'user',
            content: {
              type: 'text',
              text: [
                `Triage ticket ${p.ticket_number}: "${p.title}" (now ${p.priority}, ${p.status}, group ${p.assigned_group_id ?? 'none'}, user ${p.assigned_user_id ?? 'none'}; SLA resolve ${p.sla.resolve.state}${p.sla.resolve.due_at ? ` due ${p.sla.resolve.due_at}` : ''}).`,
                '',
                p.description || '(no description)',
                '',
                notes.length ? `Recent notes (newest first):\n${noteLines(notes).join('\n')}` : 'No notes yet.',
                '',
                '1. Read it in full with get_ticket, its notes with list_ticket_notes and its history with get_ticket_audit_log.',
                '2. Propose a priority (critical, high, medium, low) with a one-line reason; mind its SLA (get_ticket_sla).',
                '3. Propose the group (list_groups) and, if clear, a member (list_users with group_id).',
                '4. Propose the next step. Apply changes with update_ticket / assign_ticket only if asked to, and record your reasoning with add_ticket_note.',
              ].join('\n'),
            },
          },
        ],
      };
    },
  );
}
