/**
 * One error vocabulary: every failure the API reports is an AppError with a stable snake_case code
 * and an HTTP status. Messages are transport-neutral (no header, path or HTTP method): the REST
 * renderer (http/middlewares/error-handler, with http/error-hints) and MCP (mcp/results) each add
 * their own advice. Database errors are translated once, here, by SQLSTATE.
 */
export class AppError extends Error {
  constructor(
    public readonly status: number,
    public readonly code: string,
    message: string,
    public readonly details: unknown = null,
    public readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

/**
 * One problem of a 422 `validation_error`. `lookup` names the list the valid ids come from; each
 * transport says how to read it (REST: `(see GET /api/v1/users)`).
 */
export interface InputProblem {
  in: 'body' | 'query' | 'path' | 'header';
  path: string;
  message: string;
  lookup?: 'users' | 'groups' | 'business_calendars';
}

export const badRequest = (message: string, details?: unknown) => new AppError(400, 'bad_request', message, details);
export const validationFailed = (details: unknown, message = 'The request is not valid.') =>
  new AppError(422, 'validation_error', message, details);
export const unauthorized = (message = 'Authentication is required.', headers: Record<string, string> = { 'WWW-Authenticate': 'Bearer' }) =>
  new AppError(401, 'unauthorized', message, null, headers);
export const forbidden = (message = 'You do not have permission to do this.') => new AppError(403, 'forbidden', message);
export const notFound = (what = 'Resource') => new AppError(404, 'not_found', `${what} not found.`);
export const conflict = (code: string, message: string, details?: unknown) => new AppError(409, code, message, details);
export const preconditionFailed = (message: string, details?: unknown) => new AppError(412, 'precondition_failed', message, details);
export const unsupportedMediaType = (message: string) => new AppError(415, 'unsupported_media_type', message);
export const tooManyRequests = (retryAfterSeconds: number, message = 'Too many requests; slow down.') =>
  new AppError(429, 'rate_limited', message, { retry_after_seconds: retryAfterSeconds }, { 'Retry-After': String(retryAfterSeconds) });
export const serviceUnavailable = (code: string, message: string, details?: unknown) => new AppError(503, code, message, details);

interface PgError {
  code?: string;
  constraint?: string;
  detail?: string;
  column?: string;
}

// Failures of the database, not of the request: it is down, restarting, cut off, overloaded,
// read-only or broken, and the same request may succeed later. By SQLSTATE class: 08 connection
// exception, 53 insufficient resources (too many connections, disk full), 57P admin/crash shutdown
// or "cannot connect now", 58 system error (I/O), XX internal error (corruption); 57014 a query
// cancelled (by a statement timeout or an administrator); 25006 a read-only transaction (a failover
// to a standby, or a database set read-only); 40001/40P01/40003 serialization failure, deadlock,
// completion unknown; 55P03 lock not available, 55006 object in use; 25P03/25P04 idle-in-transaction
// and transaction timeouts; plus the socket errors of a refused or reset connection.
const DB_UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  '57014',
  '25006',
  '25P03',
  '25P04',
  '40001',
  '40P01',
  '40003',
  '55P03',
  '55006',
]);
const DB_UNAVAILABLE_CLASSES = /^(08|53|57P|58|XX)/;
// The pg driver gives these no code (brianc/node-postgres creates them as plain Errors when a
// connection ends under a query, or cannot be opened in time). Matched whole, here only; knex
// prefixes a query's error message with its SQL and " - ".
const PG_CONNECTION_LOST = [
  'Connection terminated unexpectedly',
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'timeout exceeded when trying to connect',
  'Connection terminated due to connection timeout',
];
// gRPC UNAVAILABLE (14) and DEADLINE_EXCEEDED (4) from the Temporal frontend.
const GRPC_UNAVAILABLE = new Set([4, 14]);

function isDatabaseUnavailable(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') return DB_UNAVAILABLE_CODES.has(code) || DB_UNAVAILABLE_CLASSES.test(code);
  if ((e as Error).name === 'KnexTimeoutError') return true; // the pool had no connection in time
  const message = (e as Error).message;
  return typeof message === 'string' && PG_CONNECTION_LOST.some((m) => message === m || message.endsWith(` - ${m}`));
}

/** The error and what it wraps: `cause` chains and Objection's `nativeError`. */
function* causes(err: unknown): Generator<object> {
  const seen = new Set<unknown>();
  const queue = [err];
  while (queue.length) {
    const e = queue.shift();
    if (!e || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    yield e;
    queue.push((e as { cause?: unknown }).cause, (e as { nativeError?: unknown }).nativeError);
  }
}

/**
 * Map infrastructure outages to 503 (database by code, knex's pool timeout or a connection lost
 * under a query; Temporal by gRPC status), so callers retry instead of seeing a 500. Anything else
 * is returned as is.
 */
export function translateOutage(err: unknown): unknown {
  if (err instanceof AppError) return err;
  for (const e of causes(err)) {
    if (isDatabaseUnavailable(e)) return databaseUnavailable();
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number' && GRPC_UNAVAILABLE.has(code)) {
      return new AppError(503, 'temporal_unavailable', 'The workflow engine is unreachable; nothing was changed.', null, {
        'Retry-After': '5',
      });
    }
  }
  return err;
}

const databaseUnavailable = () =>
  new AppError(503, 'database_unavailable', 'The database is unreachable or cannot take this request right now.', null, {
    'Retry-After': '5',
  });

/** 422 for text PostgreSQL cannot store; `details` names each field (`body.title`, `query.search`). */
export const invalidText = (details: { field: string }[]) =>
  new AppError(
    422,
    'invalid_text',
    `${details.map((d) => d.field).join(', ')}: text must not contain NUL (U+0000) or unpaired surrogates (U+D800–U+DFFF); nothing was changed.`,
    details,
  );

/** Map a PostgreSQL error (by SQLSTATE) to an AppError; anything unknown is returned as is. */
export function translateDbError(err: unknown): unknown {
  // Objection wraps driver errors (UniqueViolationError etc.) and keeps the original as nativeError.
  const pgErr = ((err as { nativeError?: unknown })?.nativeError ?? err) as PgError;
  switch (pgErr?.code) {
    case '23505':
      return conflict('already_exists', 'A record with the same unique value already exists.', { constraint: pgErr.constraint });
    case '23503':
      return validationFailed({ constraint: pgErr.constraint }, 'A referenced record does not exist.');
    case '23514':
    case '23502':
    case '22001':
      return validationFailed({ constraint: pgErr.constraint ?? pgErr.column }, 'A value is out of range or missing.');
    case '22021': // character not in repertoire (NUL)
    case '22P05': // untranslatable character (e.g. \u0000 in jsonb)
      return new AppError(
        422,
        'invalid_text',
        'A value contains a character that cannot be stored (NUL or an unpaired surrogate); nothing was changed.',
      );
    case '22003': // numeric value out of range
    case '54000': // program limit exceeded (e.g. a value too large for its index)
      return validationFailed({ constraint: pgErr.constraint ?? pgErr.column }, 'A value is too large.');
    default:
      // any other data exception (class 22: wrong format, bad date, invalid escape…) is the input's fault
      if (typeof pgErr?.code === 'string' && pgErr.code.startsWith('22')) return badRequest('A value has the wrong format.');
      return err;
  }
}
