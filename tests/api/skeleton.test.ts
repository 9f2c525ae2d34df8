import { Connection, Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { createLogger } from '../../src/logger.js';
import { startHttpServer } from '../../src/server.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ worker: false });
});
afterAll(() => h.stop());

function expectEnvelope(res: { headers: Headers; body: any }, code: string) {
  expect(Object.keys(res.body).sort()).toEqual(['error', 'request_id']);
  expect(Object.keys(res.body.error).sort()).toEqual(['code', 'details', 'message']);
  expect(res.body.error.code).toBe(code);
  expect(res.body.error.message).toEqual(expect.any(String));
  expect(res.body.request_id).toBe(res.headers.get('x-request-id'));
  expect(JSON.stringify(res.body)).not.toMatch(/at .+\.(ts|js):\d+/); // no stack traces
}

describe('HTTP skeleton', () => {
  it('answers liveness', async () => {
    const res = await call(h, 'GET', '/api/v1/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('reports ready when PostgreSQL and Temporal answer', async () => {
    const res = await call(h, 'GET', '/api/v1/ready');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ready', checks: { database: 'ok', temporal: 'ok' } });
  });

  it('reports 503 naming the dependency that is down', async () => {
    // No SDK retry interceptor: a pending background retry would fire after the close below and
    // throw "Channel has been shut down" outside any test (seen on a CI run).
    const connection = Connection.lazy({ address: '127.0.0.1:1', interceptors: [] });
    const deps = { config: h.config, db: h.db, temporal: new Client({ connection }), logger: createLogger('silent') };
    const server = await startHttpServer(deps, 0, '127.0.0.1');
    try {
      const res = await call({ baseUrl: `http://127.0.0.1:${server.port}` }, 'GET', '/api/v1/ready');
      expect(res.status).toBe(503);
      expectEnvelope(res, 'not_ready');
      expect(res.body.error.details.checks.database).toBe('ok');
      expect(res.body.error.details.checks.temporal).toMatch(/^unavailable/);
    } finally {
      await server.close();
      await connection.close();
    }
  });

  it('gives unknown routes a 404 envelope', async () => {
    const res = await call(h, 'GET', '/api/v1/nope');
    expect(res.status).toBe(404);
    expectEnvelope(res, 'not_found');
  });

  it('gives a wrong method on a known route 405', async () => {
    const res = await call(h, 'DELETE', '/api/v1/health');
    expect(res.status).toBe(405);
    expectEnvelope(res, 'method_not_allowed');
  });

  it('rejects malformed JSON with 400', async () => {
    const res = await call(h, 'POST', '/api/v1/auth/login', {
      rawBody: '{"username": "admin",',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expectEnvelope(res, 'bad_request');
  });

  it('rejects an oversize body with 413', async () => {
    const big = JSON.stringify({ username: 'x'.repeat(2 * 1024 * 1024), password: 'y' });
    const res = await call(h, 'POST', '/api/v1/auth/login', { rawBody: big, headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(413);
    expectEnvelope(res, 'payload_too_large');
  });

  it('rejects a non-JSON body with 415', async () => {
    const res = await call(h, 'POST', '/api/v1/auth/login', { rawBody: 'username=admin', headers: { 'content-type': 'text/plain' } });
    expect(res.status).toBe(415);
    expectEnvelope(res, 'unsupported_media_type');
  });

  it('rejects schema violations with 422 and names each field', async () => {
    const res = await call(h, 'POST', '/api/v1/auth/login', { body: { username: '', extra: 1 } });
    expect(res.status).toBe(422);
    expectEnvelope(res, 'validation_error');
    const paths = res.body.error.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['username', 'password']));
  });

  it('keeps a caller-supplied request id and generates one otherwise', async () => {
    const mine = await call(h, 'GET', '/api/v1/health', { headers: { 'x-request-id': 'trace-abc-123' } });
    expect(mine.headers.get('x-request-id')).toBe('trace-abc-123');
    const unsafe = await call(h, 'GET', '/api/v1/health', { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(unsafe.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('serves an OpenAPI 3.1 document generated from the route schemas', async () => {
    const res = await call(h, 'GET', '/api/v1/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/health',
        '/api/v1/ready',
        '/api/v1/auth/login',
        '/api/v1/auth/me',
        '/api/v1/tickets',
        '/api/v1/tickets/{id}',
      ]),
    );
    const create = res.body.paths['/api/v1/tickets'].post;
    // request bodies are inline (generated clients keep defaulted fields optional there)
    const body = create.requestBody.content['application/json'].schema;
    expect(body.properties.title.maxLength).toBe(200);
    expect(body.required).toEqual(['title']);
  });

  it('serves the docs page and its assets offline', async () => {
    const page = await fetch(`${h.baseUrl}/docs`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/docs/assets/swagger-ui-bundle.js');
    const asset = await fetch(`${h.baseUrl}/docs/assets/swagger-ui-bundle.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('javascript');
    expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    const missing = await call(h, 'GET', '/docs/assets/..%2Fpackage.json');
    expect(missing.status).toBe(404);
  });

  it('never listens by itself', () => {
    const app = createApp({ config: h.config, db: h.db, temporal: h.temporal.client, logger: createLogger('silent') });
    expect(typeof app.callback()).toBe('function');
    expect((app as unknown as { server?: unknown }).server).toBeUndefined();
  });
});
