/**
 * Route declaration: one object per route names its schemas, its auth and its handler. The same
 * object registers the Koa route (with validation) and the OpenAPI 3.1 path, so the document
 * cannot drift from the code.
 */
import Router, { type RouterContext } from '@koa/router';
import { OpenAPIRegistry, OpenApiGeneratorV31, extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { invalidText, unsupportedMediaType, validationFailed } from '../errors/index.js';
import type { AppState } from './context.js';
import { findUnstorableText } from './storable-text.js';

extendZodWithOpenApi(z);

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type AnyObject = z.ZodObject<z.ZodRawShape>;

export type Ctx = RouterContext<AppState>;

/** Response headers the document describes once (components.headers) and routes name. */
const HEADERS = {
  'X-Request-Id': {
    description: "The request id (a caller's safe X-Request-Id is kept); also in every log line and error body",
    schema: { type: 'string' },
  },
  'RateLimit-Limit': { description: 'Requests allowed per window for this principal', schema: { type: 'integer' } },
  'RateLimit-Remaining': { description: 'Requests left in the current window', schema: { type: 'integer' } },
  'RateLimit-Reset': { description: 'Seconds until the window resets', schema: { type: 'integer' } },
  'RateLimit-Policy': { description: 'The policy, e.g. `100;w=60`', schema: { type: 'string' } },
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } },
  'WWW-Authenticate': { description: 'The scheme to authenticate with (`Bearer`)', schema: { type: 'string' } },
  ETag: { description: 'The version of the resource (`"3"`): send it back as If-Match', schema: { type: 'string' } },
  Location: { description: 'The URL of the created (or queued) resource', schema: { type: 'string', format: 'uri-reference' } },
  'Set-Cookie': {
    description:
      'The refresh token: `servicemeow_refresh`, httpOnly, Secure, SameSite=Strict, path /api/v1/auth (cleared on sign-out and on a refused refresh)',
    schema: { type: 'string' },
  },
  'Content-Disposition': { description: '`attachment` with an ASCII `filename=` and a UTF-8 `filename*=`', schema: { type: 'string' } },
  'Idempotent-Replayed': {
    description: '`true` when this is the stored answer to an earlier request with the same Idempotency-Key',
    schema: { type: 'string' },
  },
} as const;
export type HeaderName = keyof typeof HEADERS;

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  /** application/json unless named (text/event-stream, text/plain, a download's any type) */
  mediaType?: string;
  /** raw schema for non-JSON bodies (a stream, a file) */
  rawSchema?: Record<string, unknown>;
  /** headers this response carries beyond the standard ones */
  headers?: HeaderName[];
}

export interface RouteSpec<P extends AnyObject, Q extends AnyObject, B extends z.ZodType> {
  method: Method;
  /** OpenAPI style, relative to the router's prefix: `/tickets/{id}` */
  path: string;
  /** unique, camelCase: the method name in generated clients */
  operationId: string;
  summary: string;
  tags: string[];
  /** middlewares run before validation (auth, rate limit); `secured` marks it in the document */
  before?: Middleware<AppState>[];
  secured?: boolean;
  /** the document's security requirement when not the bearer/API key pair (the refresh cookie) */
  security?: Record<string, string[]>[];
  params?: P;
  query?: Q;
  /**
   * the JSON body; leave it unnamed (no `.openapi('Name')`): described inline, generated clients
   * keep fields that have a default optional (openapi-typescript requires them in named schemas)
   */
  body?: B;
  /** documents a multipart body the handler streams itself (never parsed into memory here) */
  multipart?: z.ZodType;
  /** extra request headers worth documenting (Idempotency-Key, If-Match) */
  headers?: AnyObject;
  /**
   * Success and route-specific error statuses (403, 404, 409, 412, …). The statuses every route of
   * a kind can answer are added by `route()`: 401/429/503 when secured, 400/413 where a body is
   * parsed, 415 for JSON bodies, 422 where there is input to validate. Errors get the envelope.
   */
  responses: Record<number, ResponseSpec>;
  handler: (ctx: Ctx, input: { params: z.infer<P>; query: z.infer<Q>; body: z.infer<B> }) => Promise<void>;
}

/** The envelope every error response uses (SPEC §7). */
export const ErrorEnvelope = z
  .object({
    error: z
      .object({
        code: z.string().describe('stable snake_case code, e.g. validation_error, invalid_transition'),
        message: z.string().describe('for people: what was wrong and what to do'),
        // null, or what the code documents: per-field issues for 422, allowed statuses for 409, …
        details: z.union([z.array(z.unknown()), z.record(z.string(), z.unknown()), z.null()]),
      })
      .strict(),
    request_id: z.string(),
  })
  .strict()
  .openapi('Error');

/** The statuses a route answers because of what it is, not what it does. */
function standardErrors(spec: RouteSpec<AnyObject, AnyObject, z.ZodType>): Record<number, string> {
  const parsesBody = spec.method === 'post' || spec.method === 'put' || spec.method === 'patch';
  const hasInput = Boolean(spec.params || spec.query || spec.body || spec.headers || spec.multipart);
  const errors: Record<number, string> = {};
  if (parsesBody) {
    errors[400] = 'Malformed request (a body that is not valid JSON, a malformed header)';
    errors[413] = 'The request body is too large';
  }
  if (spec.headers) errors[400] = 'Malformed request (a malformed If-Match or Idempotency-Key)';
  if (spec.body) errors[415] = 'The body is not application/json';
  // every route walks its headers and query for text PostgreSQL cannot store (`invalid_text`)
  errors[422] = hasInput
    ? 'Validation failed (`validation_error`: `details` has one entry per bad field — `in`, `path`, `message`), or text that cannot be stored (`invalid_text`: NUL or an unpaired surrogate)'
    : 'Text that cannot be stored in a header or query parameter (`invalid_text`: NUL or an unpaired surrogate)';
  if (spec.secured) {
    errors[401] = 'Not authenticated: no, invalid or expired credentials';
    errors[429] = 'Rate limit reached: retry after `Retry-After` seconds';
    errors[503] = 'A dependency (database, workflow engine) is unavailable: retry after `Retry-After` seconds';
  }
  return errors;
}

export class ApiRouter {
  readonly router: Router<AppState>;
  readonly registry = new OpenAPIRegistry();
  private readonly operationIds = new Set<string>();

  constructor(readonly prefix: string) {
    this.router = new Router<AppState>({ prefix });
    this.registry.registerComponent('securitySchemes', 'bearer', {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: 'An access token from POST /auth/login, or an API key `smk_…`',
    });
    this.registry.registerComponent('securitySchemes', 'apiKey', {
      type: 'apiKey',
      in: 'header',
      name: 'X-API-Key',
      description: 'An API key `smk_…`',
    });
    this.registry.registerComponent('securitySchemes', 'refreshCookie', {
      type: 'apiKey',
      in: 'cookie',
      name: 'servicemeow_refresh',
      description: 'The refresh token cookie set by POST /auth/login (httpOnly: browsers send it, scripts cannot read it)',
    });
    for (const [name, header] of Object.entries(HEADERS)) this.registry.registerComponent('headers', name, header);
  }

  /** Declare one route: registers it on Koa and in the OpenAPI registry. */
  route<P extends AnyObject = z.ZodObject<{}>, Q extends AnyObject = z.ZodObject<{}>, B extends z.ZodType = z.ZodUndefined>(
    spec: RouteSpec<P, Q, B>,
  ): void {
    if (this.operationIds.has(spec.operationId)) throw new Error(`duplicate operationId ${spec.operationId}`);
    this.operationIds.add(spec.operationId);
    const declared: Record<number, ResponseSpec | string> = {
      ...standardErrors(spec as unknown as RouteSpec<AnyObject, AnyObject, z.ZodType>),
      ...spec.responses,
    };
    const responses = Object.fromEntries(
      Object.entries(declared).map(([code, r]) => {
        const status = Number(code);
        const entry: ResponseSpec = typeof r === 'string' ? { description: r } : r;
        const schema = entry.schema ?? (status >= 400 ? ErrorEnvelope : undefined);
        const headers: HeaderName[] = ['X-Request-Id', ...(entry.headers ?? [])];
        if (spec.secured && status !== 401 && status !== 503)
          headers.push('RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'RateLimit-Policy');
        if (status === 401) headers.push('WWW-Authenticate');
        if (status === 429 || status === 503) headers.push('Retry-After');
        const content = entry.rawSchema
          ? { [entry.mediaType ?? 'application/octet-stream']: { schema: entry.rawSchema } }
          : schema
            ? { [entry.mediaType ?? 'application/json']: { schema } }
            : undefined;
        return [
          code,
          {
            description: entry.description,
            headers: Object.fromEntries([...new Set(headers)].map((h) => [h, { $ref: `#/components/headers/${h}` }])),
            ...(content ? { content } : {}),
          },
        ];
      }),
    );
    this.registry.registerPath({
      method: spec.method,
      path: `${this.prefix}${spec.path}`,
      operationId: spec.operationId,
      summary: spec.summary,
      tags: spec.tags,
      security: spec.security ?? (spec.secured ? [{ bearer: [] }, { apiKey: [] }] : []),
      request: {
        ...(spec.params ? { params: spec.params } : {}),
        ...(spec.query ? { query: spec.query } : {}),
        ...(spec.headers ? { headers: spec.headers } : {}),
        ...(spec.body
          ? { body: { required: !spec.body.safeParse(undefined).success, content: { 'application/json': { schema: spec.body } } } }
          : {}),
        ...(spec.multipart ? { body: { required: true, content: { 'multipart/form-data': { schema: spec.multipart } } } } : {}),
      },
      responses,
    });

    const koaPath = spec.path.replace(/\{(\w+)\}/g, ':$1');
    const validate: Middleware<AppState> = async (ctx, next) => {
      const c = ctx as unknown as Ctx;
      const issues: { in: string; path: string; message: string }[] = [];
      const parse = <T extends z.ZodType>(where: string, schema: T | undefined, value: unknown): z.infer<T> | undefined => {
        if (!schema) return undefined;
        const result = schema.safeParse(value);
        if (result.success) return result.data;
        for (const issue of result.error.issues) issues.push({ in: where, path: issue.path.join('.'), message: issue.message });
        return undefined;
      };
      if (spec.body && c.request.length && !c.request.is('application/json')) {
        throw unsupportedMediaType('Send the body as application/json.');
      }
      const input = {
        params: parse('path', spec.params, c.params) as z.infer<P>,
        query: parse('query', spec.query, c.query) as z.infer<Q>,
        body: parse('body', spec.body, c.request.body ?? undefined) as z.infer<B>,
      };
      if (issues.length) throw validationFailed(issues);
      await spec.handler(c, input);
      await next();
    };
    // path parameters are decoded only once a route matched: refuse NUL (`/tickets/%00`) before
    // authentication or anything else reads them (headers, query and body: refuseUnstorableText)
    const storablePath: Middleware<AppState> = async (ctx, next) => {
      const findings = findUnstorableText((ctx as unknown as Ctx).params, 'path');
      if (findings.length) throw invalidText(findings);
      await next();
    };
    this.router[spec.method](koaPath, storablePath, ...(spec.before ?? []), validate);
  }

  /** The OpenAPI 3.1 document of every declared route. */
  document(info: { title: string; version: string; description?: string }) {
    return new OpenApiGeneratorV31(this.registry.definitions).generateDocument({
      openapi: '3.1.0',
      info: { ...info, license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' } },
      servers: [{ url: '/' }],
    });
  }
}
