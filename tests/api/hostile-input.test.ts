/**
 * Text PostgreSQL cannot store (NUL, unpaired surrogates) never gets past the edge: every route of
 * the OpenAPI document, with such text in its body, query and path, answers 422 `invalid_text`
 * naming the field, and nothing is written; the examples leave the ticket changeable.
 * Multipart field values and MCP tool arguments are refused the same way.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ticket } from '../../src/models/index.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';
import { createApiKey, createUser, ensureSlaPolicies, signedIn } from '../helpers/factories.js';

const NUL = 'x\u0000y';
const SURROGATE = 'a\ud800b';
const UUID = '00000000-0000-4000-8000-000000000000';

interface Route {
  method: string;
  path: string;
  query: string[];
  pathParams: string[];
  jsonBody: boolean;
  bodyProps: string[];
}

let h: Harness;
let admin: { token: string; user: { id: string } };
let routes: Route[];

beforeAll(async () => {
  h = await startHarness({ scratch: 'hostile_input', confirmWaitMs: 10_000, env: { RATE_LIMIT_PER_MINUTE: '100000' } });
  await ensureSlaPolicies(h.db);
  admin = await signedIn(h, 'admin');
  const doc = (await call(h, 'GET', '/api/v1/openapi.json')).body;
  const schemaProps = (schema: any): string[] => {
    const resolved = schema?.$ref ? doc.components.schemas[schema.$ref.split('/').pop()] : schema;
    const parts = [resolved, ...(resolved?.allOf ?? []), ...(resolved?.anyOf ?? []), ...(resolved?.oneOf ?? [])];
    return [...new Set(parts.flatMap((p: any) => Object.keys(p?.properties ?? {})))];
  };
  routes = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => {
      const json = op.requestBody?.content?.['application/json']?.schema;
      return {
        method: method.toUpperCase(),
        path,
        query: (op.parameters ?? []).filter((p: any) => p.in === 'query').map((p: any) => p.name),
        pathParams: (op.parameters ?? []).filter((p: any) => p.in === 'path').map((p: any) => p.name),
        jsonBody: Boolean(json),
        bodyProps: json ? schemaProps(json) : [],
      };
    }),
  );
});
afterAll(() => h.stop());

const concrete = (path: string) => path.replace(/\{[^}]+\}/g, UUID);
const fields = (res: { body: any }) => (res.body?.error?.details ?? []).map((d: { field: string }) => d.field);

/** Row count of every table: nothing refused may leave a row behind. */
async function rowCounts(): Promise<Record<string, number>> {
  const tables = await h.db('information_schema.tables').select('table_name').where({ table_schema: 'public', table_type: 'BASE TABLE' });
  const counts: Record<string, number> = {};
  for (const { table_name: name } of tables as { table_name: string }[]) {
    const [row] = await h.db(name).count({ n: '*' });
    counts[name] = Number(row!.n);
  }
  return counts;
}

describe('every route refuses unstorable text', () => {
  it('in the JSON body (top-level and nested), naming each field, and writes nothing', async () => {
    const before = await rowCounts();
    const withBody = routes.filter((r) => ['POST', 'PUT', 'PATCH'].includes(r.method));
    expect(withBody.filter((r) => r.jsonBody).length).toBeGreaterThan(15);
    for (const r of withBody) {
      for (const bad of [NUL, SURROGATE]) {
        const props = r.bodyProps.length ? r.bodyProps : ['probe'];
        const body: Record<string, unknown> = Object.fromEntries(props.map((p) => [p, bad]));
        body.nested = { list: ['fine', bad] };
        const res = await call(h, r.method, concrete(r.path), { token: admin.token, body });
        const label = `${r.method} ${r.path} ${JSON.stringify(bad)}`;
        expect(res.status, label).toBe(422);
        expect(res.body.error.code, label).toBe('invalid_text');
        expect(res.body.request_id, label).toEqual(expect.any(String));
        expect(fields(res), label).toEqual(expect.arrayContaining([...props.map((p) => `body.${p}`), 'body.nested.list.1']));
      }
    }
    expect(await rowCounts()).toEqual(before);
  });

  it('in every query parameter, naming it, and writes nothing', async () => {
    const before = await rowCounts();
    for (const r of routes) {
      const names = [...r.query, 'probe'];
      const qs = names.map((n) => `${n}=${encodeURIComponent(NUL)}`).join('&');
      const res = await call(h, r.method, `${concrete(r.path)}?${qs}`, { token: admin.token });
      const label = `${r.method} ${r.path}`;
      expect(res.status, label).toBe(422);
      expect(res.body.error.code, label).toBe('invalid_text');
      expect(fields(res), label).toEqual(expect.arrayContaining(names.map((n) => `query.${n}`)));
    }
    // the fields the issue names: search, tag, category on the ticket list, search on users
    for (const [path, name] of [
      ['/api/v1/tickets', 'search'],
      ['/api/v1/tickets', 'tag'],
      ['/api/v1/tickets', 'category'],
      ['/api/v1/users', 'search'],
    ] as const) {
      const res = await call(h, 'GET', `${path}?${name}=a%00b`, { token: admin.token });
      expect([res.status, fields(res)]).toEqual([422, [`query.${name}`]]);
    }
    expect(await rowCounts()).toEqual(before);
  });

  it('in every path parameter, naming it, and an undecodable one is a 4xx too', async () => {
    const before = await rowCounts();
    const withParams = routes.filter((r) => r.pathParams.length);
    expect(withParams.length).toBeGreaterThan(15);
    for (const r of withParams) {
      const label = `${r.method} ${r.path}`;
      const res = await call(h, r.method, r.path.replace(/\{[^}]+\}/g, 'a%00b'), { token: admin.token, body: r.jsonBody ? {} : undefined });
      expect(res.status, label).toBe(422);
      expect(res.body.error.code, label).toBe('invalid_text');
      expect(fields(res), label).toEqual(r.pathParams.map((p) => `path.${p}`));
      // a lone surrogate cannot be written in UTF-8: its bytes are not decodable, and must not 500
      const undecodable = await call(h, r.method, r.path.replace(/\{[^}]+\}/g, '%ED%A0%80'), {
        token: admin.token,
        body: r.jsonBody ? {} : undefined,
      });
      expect(undecodable.status, label).toBeGreaterThanOrEqual(400);
      expect(undecodable.status, label).toBeLessThan(500);
    }
    // even before authentication reads anything
    const anonymous = await call(h, 'GET', '/api/v1/tickets/%00');
    expect([anonymous.status, fields(anonymous)]).toEqual([422, ['path.id']]);
    expect(await rowCounts()).toEqual(before);
  });

  it('in the login, before anything is looked up', async () => {
    const user = await createUser(h.db);
    for (const body of [
      { username: `${user.username}\u0000`, password: 'x' },
      { username: user.username, password: `p\u0000` },
      { username: SURROGATE, password: SURROGATE },
    ]) {
      const res = await call(h, 'POST', '/api/v1/auth/login', { body });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('invalid_text');
    }
  });
});

describe("the issue's examples", () => {
  it('refuses NUL in a PATCH, a POST and a lone surrogate in a note with 422; the ticket stays changeable', async () => {
    const created = await call(h, 'POST', '/api/v1/tickets', { token: admin.token, body: { title: 'Edge: clean title', priority: 'low' } });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const ticketsBefore = await Ticket.query(h.db).resultSize();

    const patch = await call(h, 'PATCH', `/api/v1/tickets/${id}`, { token: admin.token, body: { description: 'a\u0000b' } });
    expect([patch.status, patch.body.error.code, fields(patch)]).toEqual([422, 'invalid_text', ['body.description']]);
    const post = await call(h, 'POST', '/api/v1/tickets', { token: admin.token, body: { title: 'x\u0000y' } });
    expect([post.status, post.body.error.code, fields(post)]).toEqual([422, 'invalid_text', ['body.title']]);
    const titled = await call(h, 'PATCH', `/api/v1/tickets/${id}`, { token: admin.token, body: { title: 'a\ud800b' } });
    expect([titled.status, fields(titled)]).toEqual([422, ['body.title']]);
    const note = await call(h, 'POST', `/api/v1/tickets/${id}/notes`, { token: admin.token, body: { content: 'a\ud800b' } });
    expect([note.status, note.body.error.code, fields(note)]).toEqual([422, 'invalid_text', ['body.content']]);
    const tags = await call(h, 'PATCH', `/api/v1/tickets/${id}`, { token: admin.token, body: { tags: ['ok', 'b\u0000d'] } });
    expect([tags.status, fields(tags)]).toEqual([422, ['body.tags.1']]);
    expect(await Ticket.query(h.db).resultSize()).toBe(ticketsBefore);

    // still changeable, at once: no change is stuck in front of this one
    const ok = await call(h, 'PATCH', `/api/v1/tickets/${id}`, { token: admin.token, body: { description: 'a b', tags: ['ok'] } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ description: 'a b', tags: ['ok'], version: created.body.version + 1 });
    const noted = await call(h, 'POST', `/api/v1/tickets/${id}/notes`, { token: admin.token, body: { content: 'a \ud83d\udc31 b' } });
    expect(noted.status).toBe(201);
    const row = await Ticket.query(h.db).findById(id);
    expect(row?.description).toBe('a b');
  });
});

describe('multipart uploads', () => {
  it('refuse a field value with NUL and store nothing', async () => {
    const created = await call(h, 'POST', '/api/v1/tickets', { token: admin.token, body: { title: 'Edge: upload', priority: 'low' } });
    expect(created.status).toBe(201);
    const form = new FormData();
    form.append('note', 'see \u0000 attached');
    form.append('file', new Blob(['hello world\n'], { type: 'text/plain' }), 'hello.txt');
    const res = await fetch(`${h.baseUrl}/api/v1/tickets/${created.body.id}/attachments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin.token}` },
      body: form,
    });
    const body = (await res.json()) as any;
    expect([res.status, body.error.code, fields({ body })]).toEqual([422, 'invalid_text', ['body.note']]);
    const list = await call(h, 'GET', `/api/v1/tickets/${created.body.id}/attachments`, { token: admin.token });
    expect(list.status).toBe(200);
    expect(list.body.items ?? list.body).toHaveLength(0);
  });
});

describe('MCP tool arguments', () => {
  it('are refused with an isError result naming the argument, and nothing is created', async () => {
    const user = await createUser(h.db, { role: 'admin' });
    const { plain } = await createApiKey(h.db, user);
    const client = new Client({ name: 'edge-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${h.baseUrl}/mcp`), { requestInit: { headers: { 'X-API-Key': plain } } }),
    );
    try {
      const before = await Ticket.query(h.db).resultSize();
      const created = await client.callTool({ name: 'create_ticket', arguments: { title: 'x\u0000y', tags: ['ok', 'a\ud800'] } });
      expect(created.isError).toBe(true);
      const text = (created.content as { text: string }[])[0]!.text;
      expect(text).toContain('title');
      expect(text).toContain('tags.1');
      const search = await client.callTool({ name: 'list_tickets', arguments: { search: 'a\u0000' } });
      expect(search.isError).toBe(true);
      expect((search.content as { text: string }[])[0]!.text).toContain('search');
      expect(await Ticket.query(h.db).resultSize()).toBe(before);
      // the same tool works with clean text
      const ok = await client.callTool({ name: 'list_tickets', arguments: { search: 'edge' } });
      expect(ok.isError).toBeFalsy();
    } finally {
      await client.close();
    }
  });
});
