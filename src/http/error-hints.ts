/**
 * What REST adds to an error's transport-neutral message: which header to resend and where valid
 * ids are listed. MCP words its own advice (mcp/results.ts).
 */
import type { AppError, InputProblem } from '../errors/index.js';

const HINTS: Partial<Record<string, string>> = {
  change_not_confirmed: 'Retry with the same Idempotency-Key to learn the outcome without applying it twice.',
  invalid_reference: 'Check the ids (GET /api/v1/groups, /users) and retry.',
  idempotency_key_reused: 'Use a new Idempotency-Key for a new request.',
  temporal_unavailable: 'Retry shortly with the same Idempotency-Key.',
  database_unavailable: 'Retry shortly with the same Idempotency-Key.',
};

const LISTS: Record<NonNullable<InputProblem['lookup']>, string> = {
  users: '/api/v1/users',
  groups: '/api/v1/groups',
  business_calendars: '/api/v1/business-calendars',
};

/** `No user has this id.` → `No user has this id (see GET /api/v1/users).`; `lookup` itself is not rendered. */
function problemForHttp(problem: unknown): unknown {
  if (!problem || typeof problem !== 'object' || !('lookup' in problem)) return problem;
  const { lookup, ...rest } = problem as InputProblem;
  const list = lookup ? LISTS[lookup] : undefined;
  return list ? { ...rest, message: `${rest.message.replace(/\.$/, '')} (see GET ${list}).` } : rest;
}

/** The message and details of an error as the REST API renders them. */
export function httpErrorBody(err: AppError): { message: string; details: unknown } {
  const hint = HINTS[err.code];
  return {
    message: hint ? `${err.message} ${hint}` : err.message,
    details: Array.isArray(err.details) ? err.details.map(problemForHttp) : err.details,
  };
}
