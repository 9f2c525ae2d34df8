import type { Middleware } from 'koa';
import { koaBody } from 'koa-body';
import { AppError, badRequest } from '../../errors/index.js';
import type { AppState } from '../context.js';

const ENCODINGS = 'identity, gzip, deflate or br';

/**
 * Parses JSON bodies (1 MB, objects and arrays only). Whatever goes wrong while reading the body
 * is the request's fault and answered as such — malformed JSON, bytes that are not in their
 * Content-Encoding, an unknown encoding or charset, a body larger than allowed or cut short — never
 * a 500. Errors from later middleware pass through untouched.
 */
export function parseJsonBody(): Middleware<AppState> {
  const parse = koaBody({ json: true, urlencoded: false, text: false, multipart: false, jsonLimit: '1mb', jsonStrict: true });
  return async (ctx, next) => {
    // content codings are case-insensitive (RFC 9110 §8.4.1): `GZIP` is gzip
    const encoding = ctx.req.headers['content-encoding'];
    if (typeof encoding === 'string') ctx.req.headers['content-encoding'] = encoding.trim().toLowerCase();
    try {
      await parse(ctx, async () => undefined);
    } catch (err) {
      throw bodyError(err, ctx.get('Content-Encoding'));
    }
    await next();
  };
}

/** The 4xx for a body that could not be read. */
export function bodyError(err: unknown, contentEncoding: string): AppError {
  const e = err as { status?: number; type?: string; code?: unknown };
  if (e?.status === 413) return new AppError(413, 'payload_too_large', 'The request body is larger than 1 MB.');
  if (e?.status === 415) {
    return e.type === 'encoding.unsupported'
      ? new AppError(415, 'unsupported_media_type', 'Unsupported charset; send the body as UTF-8.')
      : new AppError(415, 'unsupported_media_type', `Unsupported Content-Encoding "${contentEncoding}"; send ${ENCODINGS}.`);
  }
  if (e?.type === 'request.aborted') return badRequest('The request body ended before its announced length.');
  // zlib (Z_DATA_ERROR, Z_BUF_ERROR, ERR__ERROR for brotli…): the bytes are not in the declared encoding
  if (typeof e?.code === 'string' && contentEncoding && contentEncoding !== 'identity') {
    return badRequest(`The request body is not valid ${contentEncoding} data.`);
  }
  return badRequest('The request body could not be parsed; send valid JSON (an object or an array).');
}
