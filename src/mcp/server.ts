/**
 * The MCP server of one request (stateless): tools offered according to the caller's key (a
 * read-only key sees only read-only tools; agents see no dashboard tools), ticket resources, and
 * the triage prompt. Every tool calls the same commands, policies and presenters as REST.
 */
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { findVisibleTicket } from '../commands/tickets/find.js';
import { TICKET_REF_PATTERN } from '../../workflows/vocabulary.js';
import { ticketLister } from '../commands/tickets/list.js';
import { canWriteTickets } from '../policies/tickets.js';
import { presentTicket } from '../presenters/ticket.js';
import { errorResult, failure } from './results.js';
import { TicketRef } from './schemas.js';
import type { McpSession } from './session.js';
import { registerDirectoryTools } from './tools/directory.js';
import { registerTicketTools } from './tools/tickets.js';
import { AppError } from '../errors/index.js';
import { findUnstorableText } from '../http/storable-text.js';

export interface ToolSpec<Shape extends z.ZodRawShape> {
  name: string;
  title: string;
  /** what the tool is for, once */
  description: string;
  input: Shape;
  output: z.ZodObject<z.ZodRawShape>;
  readOnly?: boolean;
  destructive?: boolean;
  idempotent?: boolean;
  /** `fail(err)` renders an error as the model-facing line (for partial failures) */
  run: (args: z.infer<z.ZodObject<Shape>>, fail: (err: unknown) => string) => Promise<CallToolResult>;
}

export type ToolRegistrar = <Shape extends z.ZodRawShape>(spec: ToolSpec<Shape>) => void;

const INSTRUCTIONS =
  'ServiceMeow service desk. Tickets are referenced by UUID or number (ASM-0001); list_tickets finds them. ' +
  'Every change goes through the ticket and is audited under your API key.';

export function createMcpServer(session: McpSession): McpServer {
  const server = new McpServer({ name: 'servicemeow', version: '0.1.0' }, { instructions: INSTRUCTIONS });
  const writes = canWriteTickets(session.principal);

  const tool: ToolRegistrar = (spec) => {
    const fail = (err: unknown) =>
      errorResult(err, session)
        .content.map((c) => (c.type === 'text' ? c.text : ''))
        .join(' ');
    server.registerTool(
      spec.name,
      {
        title: spec.title,
        description: spec.description,
        inputSchema: spec.input,
        outputSchema: spec.output,
        annotations: {
          title: spec.title,
          readOnlyHint: spec.readOnly ?? false,
          destructiveHint: spec.destructive ?? false,
          idempotentHint: spec.readOnly ? true : (spec.idempotent ?? false),
          openWorldHint: false,
        },
      },
      (async (args: z.infer<z.ZodObject<z.ZodRawShape>>) => {
        // like REST's 422 invalid_text: text PostgreSQL cannot store never reaches a command
        const unstorable = findUnstorableText(args, 'arguments');
        if (unstorable.length) {
          return failure(
            `Input validation error: ${unstorable.map((u) => u.path).join(', ')}: text must not contain NUL (U+0000) or unpaired surrogates (U+D800–U+DFFF); nothing was changed. Remove those characters and retry.`,
          );
        }
        try {
          return await spec.run(args as never, fail);
        } catch (err) {
          return errorResult(err, session);
        }
      }) as never,
    );
  };
  registerTicketTools(tool, session, writes);
  registerDirectoryTools(tool, session);

  server.registerResource(
    'ticket',
    new ResourceTemplate('servicemeow://tickets/{number}', {
      list: async () => {
        const { results } = await ticketLister(
          { principal: session.principal, db: session.deps.db },
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
    }),
    { title: 'Ticket', description: 'A ticket as JSON (the REST representation, SLA included).', mimeType: 'application/json' },
    async (uri, { number }) => {
      const ref = String(number);
      try {
        if (!TICKET_REF_PATTERN.test(ref)) throw new AppError(404, 'not_found', 'Ticket not found.');
        const ticket = await findVisibleTicket(session.deps.db, session.principal, ref);
        return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(presentTicket(ticket)) }] };
      } catch (err) {
        if (err instanceof AppError) throw new Error(`${err.message} Use list_tickets to find ticket numbers.`);
        throw new Error('The ticket could not be read.');
      }
    },
  );

  server.registerPrompt(
    'triage_ticket',
    {
      title: 'Triage a ticket',
      description: 'Propose priority, group and next step for a ticket, using the tools.',
      argsSchema: { ticket: TicketRef },
    },
    async ({ ticket }) => {
      const t = await findVisibleTicket(session.deps.db, session.principal, ticket);
      const p = presentTicket(t);
      return {
        description: `Triage ${p.ticket_number}`,
        messages: [
          {
            role: 'user',
            content: {
              type: 'text',
              text: [
                `Triage ticket ${p.ticket_number}: "${p.title}" (now ${p.priority}, ${p.status}, group ${p.assigned_group_id ?? 'none'}).`,
                '',
                p.description || '(no description)',
                '',
                '1. Read it in full with get_ticket and its history with get_ticket_audit_log.',
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
  return server;
}
