/**
 * Tool results: `structuredContent` plus text that carries what a model needs to act on it (for
 * clients that pass only `content` to the model); failures as `isError` results whose text says
 * what was wrong and what to do next. Nothing internal (stack, SQL) ever reaches the model:
 * unknown errors become a generic line with the request id, and are logged.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { AppError, translateDbError, translateOutage } from '../errors/index.js';
import type { McpSession } from './session.js';

export function ok(text: string, structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text }], structuredContent: structured };
}

export function failure(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}

/** `1 ticket`, `2 tickets`; `entry` → `entries`. */
export function count(n: number, noun: string): string {
  if (n === 1) return `${n} ${noun}`;
  return `${n} ${noun.endsWith('y') ? `${noun.slice(0, -1)}ies` : `${noun}s`}`;
}

/** The paging line of a list: where it stands and how to continue. */
export function pagingLine(p: { total: number; page: number; next_page: number | null }, shown: number, noun: string): string {
  const head = `${count(p.total, noun)}; page ${p.page} shows ${shown}`;
  return p.next_page ? `${head}; more with page=${p.next_page}.` : `${head}; no more pages.`;
}

interface SlaLine {
  state: string;
  due_at: string | null;
  at_risk: boolean;
}
const slaPart = (name: string, m: SlaLine) =>
  `${name} ${m.state}${m.at_risk && m.state === 'running' ? ' AT RISK' : ''}${m.due_at ? ` due ${m.due_at}` : ''}`;

/** One ticket on one line: everything a model needs to pick it and act on it. */
export function ticketLine(t: {
  ticket_number: string;
  title: string;
  status: string;
  priority: string;
  assigned_group_id: string | null;
  assigned_user_id: string | null;
  version: number;
  sla: { assign: SlaLine; resolve: SlaLine };
}): string {
  return (
    `${t.ticket_number} [${t.priority}, ${t.status}] ${JSON.stringify(t.title)}` +
    ` · group ${t.assigned_group_id ?? 'none'} · user ${t.assigned_user_id ?? 'none'} · v${t.version}` +
    ` · SLA ${slaPart('assign', t.sla.assign)}, ${slaPart('resolve', t.sla.resolve)}`
  );
}

/** What the model should do about each kind of failure (messages are transport-neutral; REST adds its own hints). */
function advice(err: AppError): { text?: string; hint: string } {
  switch (err.code) {
    case 'not_found':
      return {
        hint: 'Check the reference: list_tickets finds tickets by words or by number (ASM-0001); list_groups and list_users give valid ids.',
      };
    case 'invalid_transition': {
      const allowed = (err.details as { allowed?: string[] } | null)?.allowed ?? [];
      return { hint: `Choose one of the allowed statuses (${allowed.join(', ')}); get_ticket lists them as allowed_next.` };
    }
    case 'stale_version':
    case 'precondition_failed':
      return { hint: 'Read the ticket again with get_ticket and retry with its current version (or omit expected_version).' };
    case 'forbidden':
      return { hint: 'This API key may not do that; ask an administrator for a key with the needed scope or role.' };
    case 'validation_error': {
      const details = Array.isArray(err.details) ? (err.details as { path?: string; message?: string }[]) : [];
      const lines = details.map((d) => `${d.path ?? 'input'}: ${d.message ?? 'invalid'}`).join('; ');
      return { hint: `${lines || 'Fix the input and retry.'} Group and user ids come from list_groups and list_users.` };
    }
    case 'ticket_closed':
      return { hint: 'Do not retry; check it with get_ticket or find another with list_tickets.' };
    case 'invalid_reference':
      return { hint: 'Pick current ids with list_groups and list_users, then retry.' };
    case 'unprocessable_change':
      return { hint: 'Retrying the same values will fail again: shorten or fix the text you sent, then retry.' };
    case 'idempotency_key_reused':
      return {
        text: 'This request_id was already used for a different request; nothing was applied.',
        hint: 'Use a new request_id for a new request (the same one only to retry the very same call).',
      };
    case 'ticket_not_ready':
      return { hint: 'The ticket is still being created; retry the same call in a second.' };
    case 'change_not_confirmed':
      return { hint: 'Retry the same call with the same request_id in a few seconds to learn the outcome without applying it twice.' };
    case 'change_not_applied':
    case 'temporal_unavailable':
    case 'database_unavailable':
    case 'rate_limited':
      return { hint: 'The service is briefly unavailable; retry the same call in a few seconds.' };
    default:
      return { hint: '' };
  }
}

/** The model-facing line of an error. */
export function errorText(err: unknown, session: McpSession): string {
  const translated = translateOutage(translateDbError(err));
  if (translated instanceof AppError) {
    const { text, hint } = advice(translated);
    return [text ?? translated.message, hint].filter(Boolean).join(' ');
  }
  session.logger.error({ err, requestId: session.requestId }, 'MCP tool failed');
  return `The tool failed unexpectedly (request id ${session.requestId}); retry, and report the id if it persists.`;
}

export function errorResult(err: unknown, session: McpSession): CallToolResult {
  return failure(errorText(err, session));
}
