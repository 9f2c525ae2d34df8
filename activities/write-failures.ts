/**
 * Which write failures no retry can fix. A write that fails for good must not be retried for ever
 * (that stalls the ticket's serial queue and every later change behind it): it fails once,
 * non-retryable, with a typed failure the workflow turns into the Update's answer. Classified by
 * SQLSTATE class and by our own error classes, never by message text; anything else (connection
 * loss, 40001 serialization, 40P01 deadlock, an outage, an unknown error) is retried as before.
 */
import { ApplicationFailure, Context, log } from '@temporalio/activity';
import { VersionGapError } from '../src/store/ticket-records.js';
import type { WriteFailureDetails } from '../workflows/definitions.js';
import { TICKET_FAILURES, type WriteFailureKind } from '../workflows/vocabulary.js';

/** SQLSTATE classes (first two characters) whose errors repeat on every attempt. */
const PERMANENT_CLASSES: Record<string, WriteFailureKind> = {
  '22': 'invalid_data', // data exception: 22021 NUL byte, 22P05 unstorable Unicode escape, 22001 too long…
  '23': 'constraint', // integrity constraint violation (23503, a vanished reference, has its own kind)
  '54': 'limit', // program limit exceeded: e.g. an index row too large
};

function sqlstateOf(err: unknown): string | null {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    e = (e as { nativeError?: unknown }).nativeError ?? (e as { cause?: unknown }).cause;
  }
  return null;
}

/** The kind of a permanent write failure, or null when a retry may succeed. */
export function permanentKind(err: unknown): { kind: WriteFailureKind; sqlstate: string | null } | null {
  if (err instanceof VersionGapError) return { kind: 'version_gap', sqlstate: null };
  const sqlstate = sqlstateOf(err);
  if (!sqlstate) return null;
  if (sqlstate === '23503') return { kind: 'invalid_reference', sqlstate };
  const kind = PERMANENT_CLASSES[sqlstate.slice(0, 2)];
  return kind ? { kind, sqlstate } : null;
}

/** The non-retryable failure for a permanent write error, or null when it should be retried. */
export function permanentWriteFailure(err: unknown): ApplicationFailure | null {
  const found = permanentKind(err);
  if (!found) return null;
  const details: WriteFailureDetails = found;
  return ApplicationFailure.create({
    type: found.kind === 'invalid_reference' ? TICKET_FAILURES.invalidReference : TICKET_FAILURES.unwritableChange,
    message: err instanceof Error ? err.message : String(err),
    details: [details],
    nonRetryable: true,
  });
}

export interface WriteLabels {
  ticketId: string;
  /** the API request (X-Request-Id) behind the write */
  requestId?: string;
  /** the Update that asked for it */
  updateId?: string;
  version?: number;
}

/**
 * Runs a write; a permanent failure is logged (one JSON line with ticket and request id), counted
 * (`servicemeow_ticket_write_failures_total{kind}` on the worker's metrics endpoint) and thrown
 * non-retryable. Anything else is rethrown as is, for Temporal to retry.
 */
export async function writeOrFail<T>(labels: WriteLabels, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    const failure = permanentWriteFailure(err);
    if (!failure) throw err;
    const { kind, sqlstate } = failure.details![0] as WriteFailureDetails;
    log.error('ticket write failed for good: the ticket keeps its previous state', { ...labels, kind, sqlstate, error: failure.message });
    Context.current()
      .metricMeter.createCounter(
        'servicemeow_ticket_write_failures',
        'failures',
        'Ticket writes that failed for a reason no retry can fix, by kind',
      )
      .add(1, { kind });
    throw failure;
  }
}
