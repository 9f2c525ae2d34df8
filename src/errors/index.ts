/**
 * One error vocabulary: every failure the API reports is an AppError with a stable snake_case code
 * and an HTTP status. The renderer (http/middlewares/error-handler) is the only place that turns
 * errors into responses; database errors are translated once, here, by SQLSTATE.
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

export const badRequest = (message: string, details?: unknown) => new AppError(400, 'bad_request', message, details);
export const validationFailed = (details: unknown, message = 'The request is not valid.') =>
  new AppError(422, 'validation_error', message, details);
export const unauthorized = (message = 'Authentication is required.', headers: Record<string, string> = { 'WWW-Authenticate': 'Bearer' }) =>
  new AppError(401, 'unauthorized', message, null, headers);
export const forbidden = (message = 'You do not have permission to do this.') => new AppError(403, 'forbidden', message);
export const notFound = (what = 'Resource') => new AppError(404, 'not_found', `${what} not found.`);
export const conflict = (code: string, message: string, details?: unknown) => new AppError(409, code, message, details);
export const preconditionFailed = (message: string, details?: unknown) =>
  new AppError(412, 'precondition_failed', message, details);
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

// Connection-level failures: the database is down or restarting, not the request at fault.
const DB_UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006']);
// gRPC UNAVAILABLE (14) and DEADLINE_EXCEEDED (4) from the Temporal frontend.
const GRPC_UNAVAILABLE = new Set([4, 14]);

/**
 * Map infrastructure outages to 503 (database by code or knex's pool timeout, Temporal by gRPC
 * status), so callers retry instead of seeing a 500. Anything else is returned as is.
 */
export function translateOutage(err: unknown): unknown {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && DB_UNAVAILABLE_CODES.has(code)) return databaseUnavailable();
    if ((e as Error).name === 'KnexTimeoutError') return databaseUnavailable();
    if (typeof code === 'number' && GRPC_UNAVAILABLE.has(code)) {
      return new AppError(503, 'temporal_unavailable', 'The workflow engine is unreachable; nothing was changed. Retry shortly (with the same Idempotency-Key).', null, { 'Retry-After': '5' });
    }
  }
  return err;
}

const databaseUnavailable = () =>
  new AppError(503, 'database_unavailable', 'The database is unreachable; retry shortly (with the same Idempotency-Key).', null, { 'Retry-After': '5' });

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
    case '22P02':
    case '22007':
    case '22008':
      return badRequest('A value has the wrong format.');
    default:
      return err;
  }
}
