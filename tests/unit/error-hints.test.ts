/**
 * Error messages are transport-neutral: commands, the store and the outage translation name no
 * header, HTTP method or path. REST adds its hints when it renders (http/error-hints.ts); MCP words
 * its own advice (mcp/results.ts).
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { changeNotConfirmed, ticketWorkflowError } from '../../src/commands/tickets/outcome.js';
import { AppError, translateOutage, validationFailed, type InputProblem } from '../../src/errors/index.js';
import { httpErrorBody } from '../../src/http/error-hints.js';

const HTTP_WORDS = /Idempotency-Key|If-Match|Retry-After|\b(GET|POST|PATCH|PUT|DELETE) \/|\/api\/v1/;

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => path.join(e.parentPath, e.name));
}

describe('transport-neutral error messages', () => {
  it('commands, the store, policies and workflows write no HTTP hint into a message', async () => {
    const files = (await Promise.all(['src/commands', 'src/store', 'src/policies', 'workflows'].map(sourceFiles))).flat();
    expect(files.length).toBeGreaterThan(20);
    const offending: string[] = [];
    for (const file of files) {
      const lines = (await readFile(file, 'utf8')).split('\n');
      lines.forEach((line, i) => {
        const code = line.trim();
        if (code.startsWith('*') || code.startsWith('//') || code.startsWith('/*')) return; // comments may explain HTTP
        // string literals on the line, minus header names used as object keys ({ 'Retry-After': '5' })
        const literals = [...code.matchAll(/'([^'\\]|\\.)*'|`([^`\\]|\\.)*`|"([^"\\]|\\.)*"/g)].map((m) => m[0]);
        const words = literals.filter(
          (l) => HTTP_WORDS.test(l) && !new RegExp(`${l.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*:`).test(code),
        );
        if (words.length) offending.push(`${file}:${i + 1}: ${words.join(', ')}`);
      });
    }
    expect(offending).toEqual([]);
  });

  it('the outcome and outage errors say what happened, not which header to resend', () => {
    const errors = [
      changeNotConfirmed(),
      ticketWorkflowError(new WorkflowNotFoundError('gone', 'ticket-x', undefined)),
      translateOutage(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
      translateOutage(Object.assign(new Error('unavailable'), { code: 14 })),
    ] as AppError[];
    expect(errors.map((e) => e.code)).toEqual(['change_not_confirmed', 'ticket_closed', 'database_unavailable', 'temporal_unavailable']);
    for (const e of errors) expect(e.message).not.toMatch(HTTP_WORDS);
  });
});

describe('REST error hints', () => {
  it('adds the Idempotency-Key advice to the codes a retry with the same key answers', () => {
    const { message } = httpErrorBody(changeNotConfirmed());
    expect(message).toBe(
      'The ticket did not confirm the change in time (its workers are busy or down); it may still be applied. Retry with the same Idempotency-Key to learn the outcome without applying it twice.',
    );
    const outage = httpErrorBody(translateOutage(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })) as AppError);
    expect(outage.message).toBe(
      'The database is unreachable or cannot take this request right now. Retry shortly with the same Idempotency-Key.',
    );
  });

  it('names the list valid ids come from, and does not render the lookup key', () => {
    const problems: InputProblem[] = [
      { in: 'body', path: 'assigned_group_id', message: 'No group has this id.', lookup: 'groups' },
      { in: 'body', path: 'calendar_id', message: 'No business calendar has this id.', lookup: 'business_calendars' },
      { in: 'body', path: 'title', message: 'Required' },
    ];
    expect(httpErrorBody(validationFailed(problems)).details).toEqual([
      { in: 'body', path: 'assigned_group_id', message: 'No group has this id (see GET /api/v1/groups).' },
      { in: 'body', path: 'calendar_id', message: 'No business calendar has this id (see GET /api/v1/business-calendars).' },
      { in: 'body', path: 'title', message: 'Required' },
    ]);
  });

  it('leaves other errors as they are', () => {
    const err = new AppError(409, 'invalid_transition', 'A resolved ticket cannot become paused.', { allowed: ['open'] });
    expect(httpErrorBody(err)).toEqual({ message: err.message, details: { allowed: ['open'] } });
  });
});
