/**
 * The MCP server of one request (stateless): tools according to the caller's key (a read-only key
 * is offered only read-only tools; agents no dashboard tools — calling one anyway says which scope
 * or role it needs), ticket resources, the triage prompt and completions. Every tool calls the same
 * commands, policies and presenters as REST; inputs are strict (unknown or empty input is refused
 * with a message naming the right argument or tool).
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  type CallToolRequest,
  type CallToolResult,
  type ListToolsRequest,
  type ListToolsResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { canWriteTickets } from '../policies/tickets.js';
import { can } from '../policies/index.js';
import { findUnstorableText } from '../http/storable-text.js';
import { errorResult, errorText, failure } from './results.js';
import type { McpSession } from './session.js';
import { registerDirectoryTools } from './tools/directory.js';
import { registerTicketReads } from './tools/reads.js';
import { registerTicketTools } from './tools/tickets.js';
import { registerTicketResources } from './resources.js';

/** Who may be offered a tool: anyone who reads tickets, writers, or dashboard readers. */
export type ToolAudience = 'read' | 'write' | 'dashboards';

export interface ToolSpec<Shape extends z.ZodRawShape> {
  name: string;
  title: string;
  /** what the tool is for, once */
  description: string;
  input: Shape;
  /** a check over the whole input (e.g. "at least one field"), with the message naming what to send */
  refine?: { check: (args: z.infer<z.ZodObject<Shape>>) => boolean; message: string };
  output: z.ZodObject<z.ZodRawShape>;
  audience?: ToolAudience;
  readOnly?: boolean;
  destructive?: boolean;
  idempotent?: boolean;
  run: (args: z.infer<z.ZodObject<Shape>>) => Promise<CallToolResult>;
}

export type ToolRegistrar = <Shape extends z.ZodRawShape>(spec: ToolSpec<Shape>) => void;

const INSTRUCTIONS =
  'ServiceMeow service desk. Tickets are referenced by UUID or number (ASM-0001); list_tickets finds them, whoami shows your queue. ' +
  'Every change goes through the ticket and is audited under your API key. Pass request_id to make a write safe to retry.';

/** Arguments models often guess, and what this server calls them. */
const RENAMED: Record<string, string> = {
  group_id: 'assigned_group_id',
  user_id: 'assigned_user_id',
  assignee: 'assigned_user_id',
  assignee_id: 'assigned_user_id',
  group: 'assigned_group_id',
  reason: 'note',
  resolution: 'note',
  comment: 'note',
  id: 'ticket',
  ticket_id: 'ticket',
  ticket_number: 'ticket',
  number: 'ticket',
  query: 'search',
  q: 'search',
  idempotency_key: 'request_id',
  version: 'expected_version',
};

/** The refusal of unknown arguments: what was ignored-looking, what it is called here, and what the tool takes. */
function unknownArguments(tool: string, keys: string[], accepted: string[]): string {
  const hints = keys.map((k) => {
    const renamed = RENAMED[k];
    if (renamed && accepted.includes(renamed)) return `${k} (did you mean ${renamed}?)`;
    if ((k === 'content' || k === 'note') && !accepted.includes(k)) return `${k} (notes: add_ticket_note, or a status tool's note)`;
    if ((k.startsWith('assign') || renamed?.startsWith('assigned')) && !accepted.includes('assigned_user_id'))
      return `${k} (assignment: assign_ticket)`;
    if (k === 'status' && !accepted.includes('status')) return `${k} (status: update_ticket or resolve/pause/resume/reopen_ticket)`;
    return k;
  });
  return `${tool} does not take ${hints.join(', ')}; nothing was done. It takes: ${accepted.join(', ') || 'no arguments'}.`;
}

export function createMcpServer(session: McpSession): McpServer {
  const server = new McpServer({ name: 'servicemeow', version: '0.2.0' }, { instructions: INSTRUCTIONS });
  const offered: Record<ToolAudience, boolean> = {
    read: true,
    write: canWriteTickets(session.principal),
    dashboards: can(session.principal, 'dashboards.read'),
  };
  /** tools this key is not offered → why (a call names the scope or role it needs) */
  const withheld = new Map<string, string>();

  const tool: ToolRegistrar = (spec) => {
    const audience = spec.audience ?? (spec.readOnly ? 'read' : 'write');
    if (!offered[audience]) {
      withheld.set(
        spec.name,
        audience === 'write'
          ? `${spec.name} needs the tickets:write scope (and a role that may change tickets); this API key is read-only. Nothing was done; ask an administrator for a key with tickets:write.`
          : `${spec.name} is for admins and managers (dashboards.read); your role cannot use it.`,
      );
      return;
    }
    const accepted = Object.keys(spec.input);
    let input: z.ZodType = z.strictObject(spec.input, {
      error: (iss) => (iss.code === 'unrecognized_keys' ? unknownArguments(spec.name, iss.keys, accepted) : undefined),
    });
    if (spec.refine) {
      const { check, message } = spec.refine;
      input = (input as z.ZodObject).refine((v) => check(v as never), { message, when: (p) => p.issues.length === 0 });
    }
    server.registerTool(
      spec.name,
      {
        title: spec.title,
        description: spec.description,
        inputSchema: input as z.ZodObject,
        outputSchema: spec.output,
        annotations: {
          readOnlyHint: spec.readOnly ?? false,
          destructiveHint: spec.readOnly ? false : (spec.destructive ?? false),
          idempotentHint: spec.readOnly ? true : (spec.idempotent ?? false),
          openWorldHint: false,
        },
      },
      (async (args: Record<string, unknown>) => {
        // like REST's 422 invalid_text: text PostgreSQL cannot store never reaches a command
        const unstorable = findUnstorableText(args, 'arguments');
        if (unstorable.length) {
          return failure(
            `Input validation error: ${unstorable.map((u) => u.path).join(', ')}: text must not contain NUL (U+0000) or unpaired surrogates (U+D800–U+DFFF); nothing was changed. Remove those characters and retry.`,
          );
        }
        try {
          return await spec.run(args as never);
        } catch (err) {
          return errorResult(err, session);
        }
      }) as never,
    );
  };
  registerTicketReads(tool, session);
  registerTicketTools(tool, session);
  registerDirectoryTools(tool, session);
  registerTicketResources(server, session);
  refuseWithheldTools(server, withheld);
  compactToolList(server);
  return server;
}

/** The model-facing line of an error, for results that report failures per item. */
export const failureLine = (session: McpSession) => (err: unknown) => errorText(err, session);

/**
 * A call to a tool this key is not offered gets the reason (the scope or role it needs) instead
 * of the SDK's "Tool … not found"; every other call goes to the SDK's own handler.
 */
function refuseWithheldTools(server: McpServer, withheld: Map<string, string>): void {
  if (!withheld.size) return;
  const sdkHandler = sdkHandlerOf<CallToolRequest, CallToolResult>(server, 'tools/call');
  server.server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
    const reason = withheld.get(req.params.name);
    return reason ? failure(reason) : sdkHandler(req, extra);
  });
}

/** The SDK's own handler of a method (the MCP tests pin this across SDK upgrades). */
function sdkHandlerOf<Req, Res>(server: McpServer, method: string): (req: Req, extra: unknown) => Promise<Res> {
  const handlers = (server.server as unknown as { _requestHandlers: Map<string, (req: Req, extra: unknown) => Promise<Res>> })
    ._requestHandlers;
  const handler = handlers.get(method);
  if (!handler) throw new Error(`the MCP SDK has no ${method} handler to wrap`);
  return handler;
}

function compactToolList(server: McpServer): void {
  const sdkHandler = sdkHandlerOf<ListToolsRequest, ListToolsResult>(server, 'tools/list');
  server.server.setRequestHandler(ListToolsRequestSchema, async (req, extra) => {
    const { tools, ...rest } = await sdkHandler(req, extra);
    return {
      ...rest,
      tools: tools.map(({ execution: _execution, ...t }) => ({
        ...t,
        inputSchema: compactJsonSchema(t.inputSchema, false) as Tool['inputSchema'],
        ...(t.outputSchema ? { outputSchema: compactJsonSchema(t.outputSchema, true) as Tool['outputSchema'] } : {}),
      })),
    };
  });
}

/**
 * tools/list is read by the model on every turn: JSON Schema noise the SDK's converter adds is
 * dropped from it (`$schema`, the safe-integer bounds of every integer, the long patterns next to
 * `format: uuid / date / date-time`, string `propertyNames`, the default `execution` block, and
 * `additionalProperties` of outputs). What
 * the schemas accept does not change: the SDK validates calls with the zod schemas themselves.
 */
const FORMATS_SAYING_IT = new Set(['uuid', 'date', 'date-time']);

export function compactJsonSchema(node: unknown, output: boolean): unknown {
  if (Array.isArray(node)) return node.map((n) => compactJsonSchema(n, output));
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  const o = node as Record<string, unknown>;
  for (const [k, v] of Object.entries(o)) {
    if (k === '$schema') continue;
    if ((k === 'maximum' || k === 'minimum') && Math.abs(v as number) === Number.MAX_SAFE_INTEGER) continue;
    if (k === 'pattern' && FORMATS_SAYING_IT.has(o.format as string)) continue;
    if (k === 'propertyNames' && (v as { type?: string }).type === 'string' && Object.keys(v as object).length === 1) continue;
    if (k === 'additionalProperties' && output) continue;
    out[k] = compactJsonSchema(v, output);
  }
  return out;
}
