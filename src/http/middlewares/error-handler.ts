import type { Middleware } from 'koa';
import { AppError, translateDbError, translateOutage } from '../../errors/index.js';
import type { AppState } from '../context.js';
import { httpErrorBody } from '../error-hints.js';

/** Codes for errors raised by Koa and its body parser, which carry an HTTP status. */
const HTTP_ERROR_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  411: 'length_required',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'validation_error',
  501: 'not_implemented',
};

const HTTP_ERROR_MESSAGES: Record<number, string> = {
  400: 'The request body could not be parsed.',
  413: 'The request body is too large.',
  415: 'Unsupported content type; send application/json.',
};

/** The only error renderer: `{error: {code, message, details}, request_id}`, never a stack trace. */
export function errorHandler(): Middleware<AppState> {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new AppError(404, 'not_found', `No route for ${ctx.method} ${ctx.path}.`);
      // the router's answer to a method it does not serve on this path (its Allow header stays set)
      if ((ctx.status === 405 || ctx.status === 501) && ctx.body === undefined) {
        const allow = ctx.response.get('Allow');
        const verb = ctx.status === 405 ? 'not allowed' : 'not implemented';
        throw new AppError(
          ctx.status,
          HTTP_ERROR_CODES[ctx.status]!,
          `${ctx.method} is ${verb} on ${ctx.path}; allowed: ${allow || 'none'}.`,
          { allowed: allow ? allow.split(/,\s*/) : [] },
        );
      }
    } catch (raw) {
      const err = toAppError(translateOutage(translateDbError(raw)));
      if (err.status === 500) ctx.state.log?.error({ err: raw }, 'request failed');
      // a 501 is the client's method, not an outage: the access log line is enough
      else if (err.status >= 500 && err.status !== 501) ctx.state.log?.warn({ err: raw, code: err.code }, 'dependency unavailable');
      ctx.status = err.status;
      for (const [name, value] of Object.entries(err.headers)) ctx.set(name, value);
      ctx.body = { error: { code: err.code, ...httpErrorBody(err) }, request_id: ctx.state.requestId };
    }
  };
}

function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const status = (err as { status?: number; statusCode?: number })?.status ?? (err as { statusCode?: number })?.statusCode;
  if (typeof status === 'number' && ((status >= 400 && status < 500) || status === 501)) {
    return new AppError(status, HTTP_ERROR_CODES[status] ?? 'bad_request', HTTP_ERROR_MESSAGES[status] ?? 'The request was not accepted.');
  }
  return new AppError(500, 'internal_error', 'Something went wrong on our side; it has been logged.');
}
