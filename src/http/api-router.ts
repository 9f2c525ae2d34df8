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

export interface RouteSpec<P extends AnyObject, Q extends AnyObject, B extends z.ZodType> {
  method: Method;
  /** OpenAPI style, relative to the router's prefix: `/tickets/{id}` */
  path: string;
  summary: string;
  tags: string[];
  /** middlewares run before validation (auth, rate limit); `secured` marks it in the document */
  before?: Middleware<AppState>[];
  secured?: boolean;
  params?: P;
  query?: Q;
  body?: B;
  /** documents a multipart body the handler streams itself (never parsed into memory here) */
  multipart?: z.ZodType;
  /** extra request headers worth documenting (Idempotency-Key, If-Match) */
  headers?: AnyObject;
  responses: Record<number, { description: string; schema?: z.ZodType }>;
  handler: (ctx: Ctx, input: { params: z.infer<P>; query: z.infer<Q>; body: z.infer<B> }) => Promise<void>;
}

/** The envelope every error response uses (SPEC §7). */
export const ErrorEnvelope = z
  .object({
    error: z.object({ code: z.string(), message: z.string(), details: z.unknown() }),
    request_id: z.string(),
  })
  .openapi('Error');

const STANDARD_ERRORS: Record<number, string> = {
  400: 'Malformed request',
  422: 'Validation failed (`validation_error`), or text that cannot be stored (`invalid_text`: NUL or an unpaired surrogate)',
};

export class ApiRouter {
  readonly router: Router<AppState>;
  readonly registry = new OpenAPIRegistry();

  constructor(readonly prefix: string) {
    this.router = new Router<AppState>({ prefix });
    this.registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    this.registry.registerComponent('securitySchemes', 'apiKey', { type: 'apiKey', in: 'header', name: 'X-API-Key' });
  }

  /** Declare one route: registers it on Koa and in the OpenAPI registry. */
  route<P extends AnyObject = z.ZodObject<{}>, Q extends AnyObject = z.ZodObject<{}>, B extends z.ZodType = z.ZodUndefined>(
    spec: RouteSpec<P, Q, B>,
  ): void {
    const responses = Object.fromEntries(
      Object.entries({ ...STANDARD_ERRORS, ...(spec.secured ? { 401: 'Not authenticated' } : {}), ...spec.responses }).map(
        ([status, r]) => {
          const entry = typeof r === 'string' ? { description: r, schema: ErrorEnvelope } : r;
          return [
            status,
            {
              description: entry.description,
              ...(entry.schema ? { content: { 'application/json': { schema: entry.schema } } } : {}),
            },
          ];
        },
      ),
    );
    this.registry.registerPath({
      method: spec.method,
      path: `${this.prefix}${spec.path}`,
      summary: spec.summary,
      tags: spec.tags,
      ...(spec.secured ? { security: [{ bearer: [] }, { apiKey: [] }] } : {}),
      request: {
        ...(spec.params ? { params: spec.params } : {}),
        ...(spec.query ? { query: spec.query } : {}),
        ...(spec.headers ? { headers: spec.headers } : {}),
        ...(spec.body ? { body: { required: !spec.body.safeParse(undefined).success, content: { 'application/json': { schema: spec.body } } } } : {}),
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
      info,
      servers: [{ url: '/' }],
    });
  }
}
