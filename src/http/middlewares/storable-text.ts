import type { Middleware } from 'koa';
import { invalidText } from '../../errors/index.js';
import { findUnstorableText } from '../storable-text.js';
import type { AppState } from '../context.js';

/**
 * Refuses, before any route runs, a request carrying text PostgreSQL cannot store (NUL, unpaired
 * surrogates) in its headers, query string or parsed body: 422 `invalid_text` naming each field.
 * Path parameters are checked per route (ApiRouter), where their names are known.
 */
export function refuseUnstorableText(): Middleware<AppState> {
  return async (ctx, next) => {
    const findings = [
      ...findUnstorableText(ctx.headers, 'header'),
      ...findUnstorableText(ctx.query, 'query'),
      ...findUnstorableText(ctx.request.body, 'body'),
    ];
    if (findings.length) throw invalidText(findings);
    await next();
  };
}
