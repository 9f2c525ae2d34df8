/**
 * Sweeps every route of the OpenAPI document: each secured route refuses anonymous and garbage
 * credentials with a 401 envelope, and each route with a UUID path parameter refuses a malformed
 * one with 422 — so a route added later cannot forget either.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startHarness, type Harness } from '../helpers/harness.js';
import { signedIn } from '../helpers/factories.js';

let h: Harness;
let routes: { method: string; path: string; secured: boolean; uuidParams: string[]; hasBody: boolean }[];
beforeAll(async () => {
  h = await startHarness({ worker: false });
  const doc = (await call(h, 'GET', '/api/v1/openapi.json')).body;
  routes = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      secured: (op.security ?? []).some((s: object) => 'bearer' in s),
      hasBody: Boolean(op.requestBody),
      uuidParams: (op.parameters ?? []).filter((p: any) => p.in === 'path' && p.schema?.format === 'uuid').map((p: any) => p.name),
    })),
  );
});
afterAll(() => h.stop());

const concrete = (path: string) => path.replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000');

describe('every route', () => {
  it('the document lists the identity routes', () => {
    const listed = routes.map((r) => `${r.method} ${r.path}`);
    for (const expected of [
      'POST /api/v1/auth/login',
      'POST /api/v1/auth/refresh',
      'POST /api/v1/auth/logout',
      'GET /api/v1/auth/me',
      'POST /api/v1/users',
      'GET /api/v1/users',
      'GET /api/v1/users/{id}',
      'PATCH /api/v1/users/{id}',
      'POST /api/v1/groups',
      'GET /api/v1/groups',
      'GET /api/v1/groups/{id}',
      'PATCH /api/v1/groups/{id}',
      'POST /api/v1/groups/{id}/members',
      'DELETE /api/v1/groups/{id}/members/{user_id}',
      'POST /api/v1/api-keys',
      'GET /api/v1/api-keys',
      'DELETE /api/v1/api-keys/{id}',
    ])
      expect(listed).toContain(expected);
  });

  it('secured routes answer 401 with the envelope to anonymous and garbage credentials', async () => {
    const secured = routes.filter((r) => r.secured);
    expect(secured.length).toBeGreaterThan(10);
    for (const r of secured) {
      for (const opts of [{}, { token: 'garbage' }, { apiKey: 'smk_garbage' }]) {
        const res = await call(h, r.method, concrete(r.path), { ...opts, body: r.hasBody ? {} : undefined });
        expect(res.status, `${r.method} ${r.path}`).toBe(401);
        expect(res.body.error.code).toBe('unauthorized');
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      }
    }
  });

  it('routes with UUID path parameters answer 422 to a malformed one', async () => {
    const { token } = await signedIn(h, 'admin');
    const withIds = routes.filter((r) => r.uuidParams.length);
    expect(withIds.length).toBeGreaterThan(5);
    for (const r of withIds) {
      const res = await call(h, r.method, r.path.replace(/\{[^}]+\}/g, 'not-a-uuid'), { token, body: r.hasBody ? {} : undefined });
      expect(res.status, `${r.method} ${r.path}`).toBe(422);
      expect(res.body.error.details.some((d: { in: string }) => d.in === 'path')).toBe(true);
    }
  });
});
