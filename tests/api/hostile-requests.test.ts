/**
 * No 500 from anything a client can send: bodies that are not in their Content-Encoding, unknown
 * methods (405/501 with Allow), clients that vanish mid-body (JSON log lines only), signed JWTs
 * naming no user id, and a corpus of malformed requests against every route of the document.
 */
import http from 'node:http';
import net from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import jwt from 'jsonwebtoken';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startHttpServer } from '../../src/server.js';
import { eventually } from '../helpers/eventually.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';
import { createApiKey, createUser, PASSWORD, signedIn } from '../helpers/factories.js';

const UUID = '00000000-0000-4000-8000-000000000000';

interface Route {
  method: string;
  path: string;
  query: string[];
  jsonBody: boolean;
  bodyProps: string[];
  secured: boolean;
}

let h: Harness;
let admin: { token: string; user: { id: string } };
let routes: Route[];

beforeAll(async () => {
  h = await startHarness({
    scratch: 'hostile_requests',
    worker: false,
    confirmWaitMs: 500,
    env: { RATE_LIMIT_PER_MINUTE: '1000000' },
    loginThrottle: { failuresPerUsername: 1_000_000, failuresPerIp: 1_000_000, windowSeconds: 60 },
  });
  admin = await signedIn(h, 'admin');
  const doc = (await call(h, 'GET', '/api/v1/openapi.json')).body;
  const schemaProps = (schema: any): string[] => {
    const resolved = schema?.$ref ? doc.components.schemas[schema.$ref.split('/').pop()] : schema;
    return Object.keys(resolved?.properties ?? {});
  };
  routes = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => {
      const json = op.requestBody?.content?.['application/json']?.schema;
      return {
        method: method.toUpperCase(),
        path,
        query: (op.parameters ?? []).filter((p: any) => p.in === 'query').map((p: any) => p.name),
        jsonBody: Boolean(json),
        bodyProps: json ? schemaProps(json) : [],
        secured: Boolean(op.security?.length),
      };
    }),
  );
});
afterAll(() => h.stop());

const concrete = (path: string) => path.replace(/\{[^}]+\}/g, UUID);

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: any;
}

/** Any request over node:http (fetch refuses TRACE and some headers); streams are not read to the end. */
function raw(method: string, path: string, opts: { headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, h.baseUrl);
    // an explicit length: without one, node sends a DELETE's body unframed
    const headers = {
      ...(opts.body !== undefined && !opts.headers?.['transfer-encoding']
        ? { 'content-length': String(Buffer.byteLength(opts.body)) }
        : {}),
      ...opts.headers,
    };
    const req = http.request(
      { method, host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, headers, timeout: 60_000 },
      (res) => {
        if (!/json/.test(String(res.headers['content-type']))) {
          res.destroy(); // an event stream or a file: the status is what counts
          return resolve({ status: res.statusCode!, headers: res.headers, body: null });
        }
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // keep the text
          }
          resolve({ status: res.statusCode!, headers: res.headers, body });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.end(opts.body);
  });
}

const isEnvelope = (body: any) =>
  typeof body?.error?.code === 'string' &&
  typeof body?.error?.message === 'string' &&
  'details' in body.error &&
  typeof body?.request_id === 'string';

describe('bodies not in their Content-Encoding', () => {
  it('answer 400 on every JSON route, login included, without credentials', async () => {
    const withBody = routes.filter((r) => r.jsonBody);
    expect(withBody.map((r) => `${r.method} ${r.path}`)).toContain('POST /api/v1/auth/login');
    const garbage = Buffer.from('{"this is": "not compressed"}');
    for (const r of withBody) {
      for (const encoding of ['gzip', 'deflate', 'br']) {
        const res = await raw(r.method, concrete(r.path), {
          headers: { 'content-type': 'application/json', 'content-encoding': encoding },
          body: garbage,
        });
        const label = `${r.method} ${r.path} ${encoding}`;
        expect(res.status, label).toBe(400);
        expect(res.body.error.code, label).toBe('bad_request');
        expect(res.body.error.message, label).toContain(encoding);
        expect(isEnvelope(res.body), label).toBe(true);
      }
    }
    // a truncated gzip stream is just as wrong
    const truncated = gzipSync(JSON.stringify({ username: 'a', password: 'b' })).subarray(0, 12);
    const cut = await raw('POST', '/api/v1/auth/login', {
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: truncated,
    });
    expect([cut.status, cut.body.error.code]).toEqual([400, 'bad_request']);
  });

  it('answer 415 for an encoding the API does not support', async () => {
    for (const encoding of ['compress', 'x-unknown', 'gzip, br']) {
      const res = await raw('POST', '/api/v1/auth/login', {
        headers: { 'content-type': 'application/json', 'content-encoding': encoding },
        body: '{}',
      });
      expect([res.status, res.body.error.code], encoding).toEqual([415, 'unsupported_media_type']);
    }
  });

  it('still accept a body that is really gzip, deflate or br', async () => {
    const user = await createUser(h.db);
    const json = JSON.stringify({ username: user.username, password: PASSWORD });
    for (const [encoding, bytes] of [
      ['gzip', gzipSync(json)],
      ['deflate', deflateSync(json)],
      ['br', brotliCompressSync(json)],
      // content codings are case-insensitive
      ['GZIP', gzipSync(json)],
      ['Br', brotliCompressSync(json)],
    ] as const) {
      const res = await raw('POST', '/api/v1/auth/login', {
        headers: { 'content-type': 'application/json', 'content-encoding': encoding },
        body: bytes,
      });
      expect(res.status, encoding).toBe(200);
      expect(res.body.access_token).toEqual(expect.any(String));
    }
  });
});

describe('methods', () => {
  it('an unknown method is a 501 envelope with Allow on every path', async () => {
    const paths = [...new Set(routes.map((r) => r.path))];
    for (const path of paths) {
      const allowed = routes.filter((r) => r.path === path).map((r) => r.method);
      for (const method of ['PROPFIND', 'TRACE', 'MKCOL']) {
        const res = await raw(method, concrete(path), { headers: { authorization: `Bearer ${admin.token}` } });
        const label = `${method} ${path}`;
        expect(res.status, label).toBe(501);
        expect(res.body.error.code, label).toBe('not_implemented');
        expect(isEnvelope(res.body), label).toBe(true);
        expect(String(res.headers.allow).split(/,\s*/), label).toEqual(expect.arrayContaining(allowed));
      }
    }
  });

  it('a known method a path does not serve is a 405 with Allow, everywhere', async () => {
    const paths = [...new Set(routes.map((r) => r.path))];
    let checked = 0;
    for (const path of paths) {
      const allowed = routes.filter((r) => r.path === path).map((r) => r.method);
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => !allowed.includes(m))) {
        const res = await raw(method, concrete(path), {
          headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
          body: '{}',
        });
        const label = `${method} ${path}`;
        expect(res.status, label).toBe(405);
        expect(res.body.error.code, label).toBe('method_not_allowed');
        expect(res.body.error.details.allowed, label).toEqual(expect.arrayContaining(allowed));
        expect(String(res.headers.allow).split(/,\s*/), label).toEqual(expect.arrayContaining(allowed));
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(50);
    const mcp = await raw('PUT', '/mcp');
    expect([mcp.status, mcp.headers.allow]).toEqual([405, 'POST']);
  });

  it('CONNECT (which Node never hands to a request handler) is a 501 envelope, not a dropped connection', async () => {
    for (const target of ['127.0.0.1:5432', 'example.com:443', '/api/v1/tickets']) {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(h.http.port, '127.0.0.1', () =>
          socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\nAuthorization: Bearer ${admin.token}\r\n\r\n`),
        );
        const chunks: Buffer[] = [];
        socket.on('data', (c: Buffer) => chunks.push(c));
        socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
        socket.on('error', reject);
      });
      expect(answer, target).toMatch(/^HTTP\/1\.1 501 /);
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
      expect(isEnvelope(body), target).toBe(true);
      expect(body.error.code, target).toBe('not_implemented');
    }
    // the server still serves afterwards
    expect((await raw('GET', '/api/v1/health')).status).toBe(200);
  });

  it('an unknown method is logged as the request it is, not as an outage', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    const server = await startHttpServer({ config: h.config, db: h.db, temporal: h.temporal.client, logger }, 0, '127.0.0.1');
    try {
      const res = await new Promise<number>((resolve, reject) => {
        const req = http.request({ method: 'PROPFIND', host: '127.0.0.1', port: server.port, path: '/api/v1/tickets' }, (r) => {
          r.resume();
          r.on('end', () => resolve(r.statusCode!));
        });
        req.on('error', reject);
        req.end();
      });
      expect(res).toBe(501);
      await eventually(() => Promise.resolve(lines.some((l) => JSON.parse(l).msg === 'request')), 10_000);
      const entries = lines.map((l) => JSON.parse(l));
      expect(entries.filter((e) => e.level >= 40).map((e) => e.msg)).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('a request the HTTP parser refuses still gets the envelope', async () => {
    for (const request of [
      'FOO\u0001 / HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /api/v1/health HTTP/1.1\r\nHost: x\r\nIdempotency-Key: a\u0000b\r\n\r\n',
    ]) {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(h.http.port, '127.0.0.1', () => socket.end(request));
        const chunks: Buffer[] = [];
        socket.on('data', (c: Buffer) => chunks.push(c));
        socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
        socket.on('error', reject);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      expect(isEnvelope(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)))).toBe(true);
    }
  });
});

describe('access tokens', () => {
  it('a correctly signed token whose sub is not a user id is a 401, not a 400', async () => {
    for (const sub of ['admin', 'not-a-uuid', "1' OR '1'='1", '12345']) {
      const token = jwt.sign({ role: 'admin' }, h.config.jwt.secret, {
        algorithm: h.config.jwt.algorithm,
        subject: sub,
        issuer: h.config.jwt.issuer,
        audience: h.config.jwt.audience,
        expiresIn: 60,
      });
      const res = await call(h, 'GET', '/api/v1/auth/me', { token });
      expect([res.status, res.body.error.code], sub).toEqual([401, 'unauthorized']);
    }
  });
});

describe('clients that vanish', () => {
  it('leave only JSON log lines with a request id, never a stack trace on stderr', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    const server = await startHttpServer({ config: h.config, db: h.db, temporal: h.temporal.client, logger }, 0, '127.0.0.1');
    const stderr = vi.spyOn(process.stderr, 'write');
    const consoleError = vi.spyOn(console, 'error');
    try {
      const { plain } = await createApiKey(h.db, await createUser(h.db, { role: 'admin' }));
      const send = (request: string, reset: boolean) =>
        new Promise<void>((resolve) => {
          const socket = net.connect(server.port, '127.0.0.1', () => {
            socket.write(request);
            setTimeout(() => {
              if (reset) socket.resetAndDestroy();
              else socket.destroy();
              resolve();
            }, 100);
          });
          socket.on('error', () => undefined);
        });
      const partial = (path: string, headers = '') =>
        `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n${headers}\r\n{"title": "cut sh`;
      const scenarios = [
        partial('/api/v1/auth/login'),
        partial('/api/v1/tickets', `Authorization: Bearer ${admin.token}\r\n`),
        partial('/mcp', `X-API-Key: ${plain}\r\n`),
        `POST /api/v1/tickets/${UUID}/attachments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${admin.token}\r\nContent-Type: multipart/form-data; boundary=zz\r\nContent-Length: 100000\r\n\r\n--zz\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhello`,
        `GET /api/v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n`,
        `GET /api/v1/events/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${admin.token}\r\n\r\n`,
      ];
      for (const scenario of scenarios) for (const reset of [false, true]) await send(scenario, reset);
      // every request is logged once it ended (5 scenarios, twice; the stream's line may come later)
      await eventually(() => Promise.resolve(lines.filter((l) => JSON.parse(l).msg === 'request').length >= 10), 30_000);
      const written = stderr.mock.calls.map((c) => String(c[0]));
      expect(written.filter((w) => /\bat \S+ \(|Error:/.test(w))).toEqual([]);
      expect(consoleError).not.toHaveBeenCalled();
      for (const line of lines) {
        const entry = JSON.parse(line);
        if (entry.msg === 'request' || entry.msg === 'client connection lost') expect(entry.request_id, line).toEqual(expect.any(String));
        expect(entry.msg, line).not.toBe('request failed after its response began');
      }
      expect(lines.some((l) => JSON.parse(l).msg === 'client connection lost')).toBe(true);
    } finally {
      stderr.mockRestore();
      consoleError.mockRestore();
      await server.close();
    }
  });
});

describe('a corpus of malformed requests against every route', () => {
  it('never answers 5xx, and every error is the envelope', { timeout: 600_000 }, async () => {
    const failures: string[] = [];
    let sent = 0;
    const check = async (method: string, path: string, opts: { headers?: Record<string, string>; body?: string | Buffer }) => {
      sent += 1;
      const res = await raw(method, path, { ...opts, headers: { authorization: `Bearer ${admin.token}`, ...opts.headers } });
      const bodyText = opts.body === undefined ? '' : String(opts.body).slice(0, 80);
      if (res.status >= 500)
        failures.push(
          `${res.status} ${method} ${path.slice(0, 120)} ${JSON.stringify(opts.headers ?? {}).slice(0, 120)} ${bodyText} → ${JSON.stringify(res.body).slice(0, 200)}`,
        );
      else if (res.status >= 400 && !isEnvelope(res.body))
        failures.push(`no envelope: ${res.status} ${method} ${path.slice(0, 120)} ${bodyText}`);
    };
    const json = { 'content-type': 'application/json' };
    const rawBodies: [Record<string, string>, string | Buffer][] = [
      [json, '{'],
      [json, '{"a":'],
      [json, 'null'],
      [json, '"a string"'],
      [json, '123'],
      [json, '[]'],
      [json, '[1, {"a": 2}]'],
      [json, '{"__proto__": {"polluted": true}}'],
      [json, '{"constructor": {"prototype": {"polluted": true}}}'],
      [json, '['.repeat(10_000) + ']'.repeat(10_000)],
      [json, `{"x": "${'y'.repeat(1_100_000)}"}`],
      [json, Buffer.from([0xff, 0xfe, 0x7b, 0x7d])],
      [json, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{}')])],
      [json, '{"a": 1e400, "b": -1e400, "c": 123456789012345678901234567890}'],
      [{ 'content-type': 'text/plain' }, '{}'],
      [{ 'content-type': 'application/x-www-form-urlencoded' }, 'a=b&c=d'],
      [{ 'content-type': 'multipart/form-data' }, '--x\r\n'],
      [{ 'content-type': 'application/json; charset=latin1' }, '{}'],
      [{ 'content-type': 'application/json; charset=utf-16' }, '{}'],
      [{ 'content-type': 'application/json; charset=nonsense' }, '{}'],
      [{ 'content-type': '' }, '{}'],
      [{ 'content-type': ';;;/' }, '{}'],
    ];
    const values: unknown[] = [
      null,
      true,
      0,
      -1,
      1.5,
      1e308,
      -1e308,
      2 ** 53 + 1,
      '',
      ' ',
      'not-a-uuid',
      '00000000-0000-0000-0000-000000000000',
      'x'.repeat(100_000),
      ['a'],
      [[['deep']]],
      {},
      { nested: { deeper: 'x' } },
      '2026-13-45T99:99:99Z',
      '../../etc/passwd',
      "'; drop table tickets; --",
      '<script>alert(1)</script>',
      '\u202e\ufeff\u200b',
      'ASM-99999999999999999999',
    ];
    const queryValues = [
      'not-a-uuid',
      '99999999999999999999',
      '-1',
      '0',
      '1e309',
      'NaN',
      'Infinity',
      '',
      'x'.repeat(10_000),
      '%ED%A0%80',
      '%FF',
      '2026-02-30',
      'true',
      '[]',
      '{}',
      '%27%3B--',
    ];
    const headerCases: Record<string, string>[] = [
      { 'if-match': '"abc"' },
      { 'if-match': 'W/"1"' },
      { 'if-match': '*' },
      { 'if-match': '"99999999999999999999999"' },
      { 'if-match': 'x'.repeat(8_000) },
      { 'idempotency-key': 'k'.repeat(300) },
      { 'idempotency-key': Buffer.from('ключ').toString('latin1') },
      { 'idempotency-key': ' ' },
      { 'x-api-key': 'smk_' + 'a'.repeat(100) },
      { 'x-api-key': 'smk_abcdefgh_' + 'A'.repeat(43) },
      { 'x-api-key': 'garbage' },
      { authorization: `Bearer ${'a'.repeat(6_000)}` },
      { authorization: 'Basic dXNlcjpwYXNz' },
      { authorization: 'Bearer smk_zzzzzzzz_' + 'z'.repeat(43) },
      { 'last-event-id': 'evt_not-a-number' },
      { 'last-event-id': '99999999999999999999999' },
      { 'last-event-id': '-1' },
      { 'x-request-id': '../../\u00ff' },
      { 'x-forwarded-for': 'not an ip, 999.999.999.999' },
      { accept: 'application/xml' },
      { 'accept-encoding': 'identity;q=0' },
      { cookie: 'refresh_token=' + 'x'.repeat(4_000) },
      { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
    ];
    for (const r of routes) {
      const path = concrete(r.path);
      if (r.jsonBody) {
        for (const [headers, body] of rawBodies) await check(r.method, path, { headers, body });
        for (const value of values) {
          const props = r.bodyProps.length ? r.bodyProps : ['probe'];
          await check(r.method, path, { headers: json, body: JSON.stringify(Object.fromEntries(props.map((p) => [p, value]))) });
        }
      }
      for (const name of r.query) for (const value of queryValues) await check(r.method, `${path}?${name}=${value}&${name}=${value}`, {});
      for (const name of r.query) for (const value of queryValues) await check(r.method, `${path}?${name}=${value}`, {});
      for (const headers of headerCases) await check(r.method, path, { headers, body: r.jsonBody ? '{}' : undefined });
      // ids of every shape in every id position
      for (const id of ['not-a-uuid', 'ASM-0', 'ASM-99999999999999999999', '1', '%20', '..', UUID.toUpperCase(), `${UUID}x`]) {
        await check(r.method, r.path.replace(/\{[^}]+\}/g, id), { headers: json, body: r.jsonBody ? '{}' : undefined });
      }
    }
    expect(sent).toBeGreaterThan(2_000);
    expect(failures).toEqual([]);
  });
});
