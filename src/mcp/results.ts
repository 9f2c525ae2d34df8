/**
 * Tool results: `structuredContent` plus a one-line text summary; failures as `isError` results
 * whose text says what was wrong and what to do next. Nothing internal (stack, SQL) ever reaches
 * the model: unknown errors become a generic line with the request id, and are logged.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { AppError, translateDbError, translateOutage } from '../errors/index.js';
import type { McpSession } from './session.js';

export function ok(summary: string, structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: summary }], structuredContent: structured };
}

export function failure(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}

/** What the model should do about each kind of failure. */
function advice(err: AppError): string {
  switch (err.code) {
    case 'not_found':
      return 'Check the reference: list_tickets finds tickets by words or by number (ASM-0001); list_groups and list_users give valid ids.';
    case 'invalid_transition': {
      const allowed = (err.details as { allowed?: string[] } | null)?.allowed ?? [];
      return `Choose one of the allowed statuses (${allowed.join(', ')}), e.g. with update_ticket.`;
    }
    case 'stale_version':
    case 'precondition_failed':
      return 'Read the ticket again with get_ticket and retry with its current version (or omit expected_version).';
    case 'forbidden':
      return 'This API key may not do that; ask an administrator for a key with the needed scope or role.';
    case 'validation_error': {
      const details = Array.isArray(err.details) ? (err.details as { path?: string; message?: string }[]) : [];
      const lines = details.map((d) => `${d.path ?? 'input'}: ${(d.message ?? 'invalid').replace(/ \(see GET [^)]*\)/, '')}`).join('; ');
      return `${lines || 'Fix the input and retry.'} Group and user ids come from list_groups and list_users.`;
    }
    case 'change_not_confirmed':
    case 'change_not_applied':
    case 'temporal_unavailable':
    case 'database_unavailable':
      return 'The service is briefly unavailable; retry the same call in a few seconds.';
    default:
      return '';
  }
}

export function errorResult(err: unknown, session: McpSession): CallToolResult {
  const translated = translateOutage(translateDbError(err));
  if (translated instanceof AppError) {
    const hint = advice(translated);
    return failure(hint ? `${translated.message} ${hint}` : translated.message);
  }
  session.logger.error({ err, requestId: session.requestId }, 'MCP tool failed');
  return failure(`The tool failed unexpectedly (request id ${session.requestId}); retry, and report the id if it persists.`);
}
