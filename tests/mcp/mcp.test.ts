/**
 * The MCP server through the official SDK client over real HTTP against the real app: the tool
 * list (completeness, schemas, annotations, size), scopes and roles, every tool's happy path with
 * its structuredContent validated against its outputSchema, failures as actionable isError
 * results, resources, the prompt, auth failures as HTTP 401, the rate limit, and an agent's full
 * flow visible through REST and the audit log.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey, type User } from '../../src/models/index.js';
import { createApiKey, createGroup, createUser, ensureSlaPolicies, signedIn } from '../helpers/factories.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let admin: User;
let adminKey: string;
let agent: User;
let groupId: string;

beforeAll(async () => {
  h = await startHarness({ env: { RATE_LIMIT_PER_MINUTE: '100000' } });
  await ensureSlaPolicies(h.db);
  admin = await createUser(h.db, { role: 'admin' });
  adminKey = (await createApiKey(h.db, admin)).plain;
  agent = await createUser(h.db, { role: 'agent' });
  groupId = (await createGroup(h.db, [agent])).id;
});
afterAll(() => h.stop());

async function connect(key: string, base = h.baseUrl): Promise<Client> {
  const client = new Client({ name: 'servicemeow-tests', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: { 'X-API-Key': key } } }));
  return client;
}

const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join(' ');

const ALL_TOOLS = [
  'add_ticket_note',
  'assign_ticket',
  'bulk_update_tickets',
  'create_ticket',
  'get_dashboard_summary',
  'get_sla_metrics',
  'get_ticket',
  'get_ticket_audit_log',
  'get_ticket_sla',
  'list_groups',
  'list_ticket_attachments',
  'list_ticket_notes',
  'list_tickets',
  'list_users',
  'merge_tickets',
  'pause_ticket',
  'read_attachment',
  'reopen_ticket',
  'resolve_ticket',
  'resume_ticket',
  'update_ticket',
  'whoami',
];

describe('tools/list', () => {
  it('offers the 22 tools, each with title, description, described inputs, an output schema and annotations, under ~8.4k tokens', async () => {
    const client = await connect(adminKey);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(ALL_TOOLS);
      for (const t of tools) {
        expect(t.title, t.name).toBeTruthy();
        expect(t.description!.length, t.name).toBeGreaterThan(10);
        expect(t.inputSchema.type).toBe('object');
        expect(t.outputSchema?.type, t.name).toBe('object');
        expect(t.annotations, t.name).toMatchObject({
          readOnlyHint: expect.any(Boolean),
          destructiveHint: expect.any(Boolean),
          idempotentHint: expect.any(Boolean),
          openWorldHint: false,
        });
      }
      const ref = tools.find((t) => t.name === 'get_ticket')!.inputSchema.properties!.ticket as { description?: string };
      expect(ref.description).toMatch(/ASM-0001/);
      // a rough token count (4 characters per token) of the whole answer
      const sizes = Object.fromEntries(tools.map((t) => [t.name, JSON.stringify(t).length]));
      // (8,000 until merge_tickets, the 22nd tool, added about 400)
      expect(JSON.stringify({ tools }).length / 4, JSON.stringify(sizes)).toBeLessThan(8_400);
    } finally {
      await client.close();
    }
  });

  it('a tickets:read key sees only read-only tools; an agent sees no dashboard tools', async () => {
    const reader = await connect((await createApiKey(h.db, admin, ['tickets:read'])).plain);
    const agentClient = await connect((await createApiKey(h.db, agent)).plain);
    try {
      const readTools = (await reader.listTools()).tools;
      expect(readTools.length).toBeGreaterThan(0);
      expect(readTools.every((t) => t.annotations?.readOnlyHint)).toBe(true);
      expect(readTools.map((t) => t.name)).not.toContain('create_ticket');
      const agentTools = (await agentClient.listTools()).tools.map((t) => t.name);
      expect(agentTools).toContain('create_ticket');
      expect(agentTools).not.toContain('get_dashboard_summary');
      expect(agentTools).not.toContain('get_sla_metrics');
      // and calling a tool that is not offered is an error, not a way around the policy
      const res = (await reader.callTool({ name: 'create_ticket', arguments: { title: 'sneaky' } })) as CallToolResult;
      expect(res.isError).toBe(true);
    } finally {
      await reader.close();
      await agentClient.close();
    }
  });
});

describe('tools', () => {
  let client: Client;
  let tools: Map<string, Tool>;
  const ajv = new Ajv({ strict: false });
  /** Call a tool; a successful result's structuredContent must satisfy the tool's outputSchema. */
  async function tool(name: string, args: Record<string, unknown> = {}): Promise<CallToolResult & { structuredContent?: any }> {
    const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
    if (!result.isError) {
      const validate = ajv.compile(tools.get(name)!.outputSchema!);
      expect(validate(result.structuredContent), `${name}: ${ajv.errorsText(validate.errors)}`).toBe(true);
      expect(text(result).length).toBeGreaterThan(0);
    }
    return result as CallToolResult & { structuredContent?: any };
  }

  beforeAll(async () => {
    client = await connect(adminKey);
    tools = new Map((await client.listTools()).tools.map((t) => [t.name, t]));
  });
  afterAll(() => client.close());

  it('an agent works a ticket end to end: create → assign → note → pause → resume → resolve, visible over REST and audited', async () => {
    const created = await tool('create_ticket', {
      title: 'VPN drops every hour',
      description: 'Since Monday.',
      priority: 'high',
      tags: ['vpn'],
    });
    expect(created.isError).toBeFalsy();
    const number = created.structuredContent.ticket_number as string;
    expect(number).toMatch(/^ASM-\d{4,}$/);
    expect(text(created)).toContain(number);

    expect(
      (await tool('assign_ticket', { ticket: number, assigned_group_id: groupId, assigned_user_id: agent.id })).structuredContent,
    ).toMatchObject({
      assigned_user_id: agent.id,
    });
    expect((await tool('add_ticket_note', { ticket: number, content: 'Asked for logs.' })).structuredContent.pending).toBe(false);
    expect((await tool('pause_ticket', { ticket: number, note: 'Waiting for the user' })).structuredContent.status).toBe('paused');
    const liveSla = (await tool('get_ticket_sla', { ticket: number })).structuredContent;
    expect(liveSla.resolve.state).toBe('paused');
    expect(liveSla.policy).toMatchObject({ rule_id: null, version: expect.any(Number) }); // which policy the clocks run on
    expect((await tool('resume_ticket', { ticket: number })).structuredContent.status).toBe('under_investigation');
    expect((await tool('resolve_ticket', { ticket: number, note: 'Replaced the router.' })).structuredContent.status).toBe('resolved');

    const { token } = await signedIn(h, 'admin');
    const rest = await call(h, 'GET', `/api/v1/tickets/${number}`, { token });
    expect(rest.body).toMatchObject({ status: 'resolved', created_via: 'mcp', assigned_user_id: agent.id, created_by_id: admin.id });
    const audit = await call(h, 'GET', `/api/v1/tickets/${number}/audit-log`, { token });
    const entries = audit.body.items as { action: string; field_changed: string | null; actor_type: string; api_key_id: string | null }[];
    expect(entries.map((e) => e.action)).toEqual(expect.arrayContaining(['created', 'updated', 'note_added']));
    expect(entries.filter((e) => e.field_changed === 'status').length).toBe(3);
    const key = await ApiKey.query(h.db).findOne({ userId: admin.id });
    expect(entries.every((e) => e.actor_type === 'api_key' && e.api_key_id === key!.id)).toBe(true);

    const reopened = await tool('reopen_ticket', { ticket: number, note: 'Back again' });
    expect(reopened.structuredContent.status).toBe('open');
    const log = await tool('get_ticket_audit_log', { ticket: number });
    expect(log.structuredContent.total).toBeGreaterThan(5);
  });

  it('merge_tickets merges a duplicate once (a retry with its request_id is answered), and the kept ticket lists its notes', async () => {
    const dup = (await tool('create_ticket', { title: 'Mouse broken (again)' })).structuredContent.ticket_number as string;
    const keep = (await tool('create_ticket', { title: 'Mouse broken' })).structuredContent.ticket_number as string;
    const args = { ticket: dup, into: keep, note: 'Same mouse.', request_id: `merge-${dup}-into-${keep}` };
    const merged = await tool('merge_tickets', args);
    expect(merged.isError).toBeFalsy();
    expect(merged.structuredContent).toMatchObject({ ticket_number: dup, status: 'merged', pending: false, changed: true });
    expect(text(merged)).toContain(`merged into ${keep}`);
    const again = await tool('merge_tickets', args);
    expect(text(again)).toMatch(/answered from the first call/);
    const notes = await tool('list_ticket_notes', { ticket: keep });
    expect(notes.structuredContent.items.map((n: { content: string }) => n.content)).toContain('Same mouse.');
    const refused = await tool('merge_tickets', { ticket: keep, into: keep });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toMatch(/itself/);
    expect((await tool('update_ticket', { ticket: dup, title: 'x' })).isError).toBe(true);
  });

  it('reads: get_ticket, list_tickets with a next page, list_groups, list_users, dashboards and SLA metrics', async () => {
    const made = [];
    for (let i = 0; i < 3; i++)
      made.push((await tool('create_ticket', { title: `Paging probe ${i} zebracorn` })).structuredContent.ticket_number);
    const full = await tool('get_ticket', { ticket: made[0] });
    expect(full.structuredContent).toMatchObject({
      ticket_number: made[0],
      description: '',
      created_via: 'mcp',
      sla: { assign: { state: 'running' } },
    });
    const first = await tool('list_tickets', { search: 'zebracorn', page_size: 2 });
    expect(first.structuredContent).toMatchObject({ total: 3, page: 1, next_page: 2 });
    expect(first.structuredContent.items).toHaveLength(2);
    const second = await tool('list_tickets', { search: 'zebracorn', page_size: 2, page: 2 });
    expect(second.structuredContent).toMatchObject({ next_page: null });
    expect((await tool('list_tickets')).structuredContent.items.length).toBeLessThanOrEqual(25);
    expect((await tool('list_groups')).structuredContent.items.map((g: { id: string }) => g.id)).toContain(groupId);
    expect((await tool('list_users', { group_id: groupId })).structuredContent.items.map((u: { id: string }) => u.id)).toEqual([agent.id]);
    expect((await tool('get_dashboard_summary')).structuredContent.total).toBeGreaterThan(0);
    expect((await tool('get_sla_metrics', { priority: 'medium' })).structuredContent.overall.tickets).toBeGreaterThan(0);
    expect((await tool('update_ticket', { ticket: made[1], title: 'Renamed zebracorn', priority: 'low' })).structuredContent).toMatchObject(
      { ticket_number: made[1], priority: 'low' },
    );
    expect((await tool('get_ticket', { ticket: made[1] })).structuredContent.title).toBe('Renamed zebracorn');
  });

  it('bulk_update_tickets applies each change on its own and reports the failures', async () => {
    const a = (await tool('create_ticket', { title: 'Bulk A' })).structuredContent.ticket_number;
    const b = (await tool('create_ticket', { title: 'Bulk B' })).structuredContent.ticket_number;
    const res = await tool('bulk_update_tickets', { tickets: [a, b, 'ASM-99999999'], status: 'under_investigation', priority: 'critical' });
    expect(res.isError).toBeFalsy();
    expect(res.structuredContent).toMatchObject({ succeeded: 2, failed: 1 });
    const failed = res.structuredContent.results.find((r: { ok: boolean }) => !r.ok);
    expect(failed.error).toMatch(/list_tickets/);
    const allBad = await tool('bulk_update_tickets', { tickets: ['ASM-99999998'], status: 'resolved' });
    expect(allBad.isError).toBe(true);
  });

  it('failures are isError results that say what to do, with no internals', async () => {
    const missing = await tool('get_ticket', { ticket: 'ASM-99999999' });
    expect(missing.isError).toBe(true);
    expect(text(missing)).toMatch(/not found.*list_tickets/i);

    const t = (await tool('create_ticket', { title: 'Transition probe' })).structuredContent.ticket_number;
    await tool('resolve_ticket', { ticket: t });
    const bad = await tool('pause_ticket', { ticket: t });
    expect(bad.isError).toBe(true);
    expect(text(bad)).toMatch(/resolved ticket cannot become paused; allowed: open/);

    const stale = await tool('update_ticket', { ticket: t, title: 'x', expected_version: 1 });
    expect(stale.isError).toBe(true);
    expect(text(stale)).toMatch(/get_ticket/);

    const invalid = await tool('get_ticket', { ticket: '1; DROP TABLE tickets' });
    expect(invalid.isError).toBe(true);
    const badGroup = await tool('assign_ticket', { ticket: t, assigned_group_id: '00000000-0000-4000-8000-000000000000' });
    expect(badGroup.isError).toBe(true);
    expect(text(badGroup)).toMatch(/list_groups/);
    // nothing written for REST reaches the model (no header, no HTTP path)
    expect(text(badGroup)).not.toMatch(/GET \/|\/api\/v1|Idempotency-Key/);
    for (const r of [missing, bad, stale, invalid, badGroup]) expect(text(r)).not.toMatch(/select |insert |\bat .*\.ts:\d+|stack/i);
  });

  it('lists tickets as resources, reads one, and offers the triage prompt', async () => {
    const number = (await tool('create_ticket', { title: 'Resource probe', description: 'Printer jam' })).structuredContent.ticket_number;
    const templates = await client.listResourceTemplates();
    expect(templates.resourceTemplates.map((t) => t.uriTemplate)).toContain('servicemeow://tickets/{number}');
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toContain(`servicemeow://tickets/${number}`);
    const read = await client.readResource({ uri: `servicemeow://tickets/${number}` });
    const body = JSON.parse((read.contents[0] as { text: string }).text);
    expect(body).toMatchObject({ ticket_number: number, description: 'Printer jam', sla: { resolve: { state: 'running' } } });
    await expect(client.readResource({ uri: 'servicemeow://tickets/ASM-99999999' })).rejects.toThrow(/list_tickets/);

    const prompts = await client.listPrompts();
    expect(prompts.prompts.map((p) => p.name)).toEqual(['triage_ticket']);
    const prompt = await client.getPrompt({ name: 'triage_ticket', arguments: { ticket: number } });
    expect((prompt.messages[0]!.content as { text: string }).text).toContain(number);
  });
});

describe('HTTP edges', () => {
  const rpc = (headers: Record<string, string>, method = 'POST', body: unknown = { jsonrpc: '2.0', id: 1, method: 'tools/list' }) =>
    fetch(`${h.baseUrl}/mcp`, {
      method,
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      body: method === 'POST' ? JSON.stringify(body) : undefined,
    });

  it('missing, invalid, revoked and expired credentials are HTTP 401 with WWW-Authenticate, never a tool result', async () => {
    const revoked = await createApiKey(h.db, admin);
    await ApiKey.query(h.db)
      .patch({ revokedAt: new Date() } as Partial<ApiKey>)
      .where({ id: revoked.key.id });
    const expired = await createApiKey(h.db, admin);
    await ApiKey.query(h.db)
      .patch({ expiresAt: new Date(Date.now() - 1000) } as Partial<ApiKey>)
      .where({ id: expired.key.id });
    const { token } = await signedIn(h, 'admin');
    const attempts: Record<string, string>[] = [
      {},
      { 'x-api-key': 'smk_nothing_here' },
      { 'x-api-key': revoked.plain },
      { authorization: `Bearer ${expired.plain}` },
      { authorization: `Bearer ${token}` },
    ];
    for (const headers of attempts) {
      const res = await rpc(headers);
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const body = (await res.json()) as object;
      expect(body).toMatchObject({ jsonrpc: '2.0', error: { code: -32001 } });
    }
    await expect(connect('smk_nothing_here')).rejects.toThrow();
  });

  it('answers GET and DELETE with 405, and malformed JSON with a JSON-RPC parse error', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await rpc({ 'x-api-key': adminKey }, method);
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('POST');
    }
    const res = await fetch(`${h.baseUrl}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': adminKey },
      body: '{"jsonrpc": ',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32700);
  });

  it('shares the per-principal rate limit with REST (429 with Retry-After)', async () => {
    const limited = await startHarness({ worker: false, env: { RATE_LIMIT_PER_MINUTE: '3' } });
    try {
      const user = await createUser(limited.db, { role: 'agent' });
      const key = (await createApiKey(limited.db, user)).plain;
      const statuses = [];
      for (let i = 0; i < 2; i++) statuses.push((await call(limited, 'GET', '/api/v1/auth/me', { apiKey: key })).status);
      const res = await fetch(`${limited.baseUrl}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'x-api-key': key },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      statuses.push(res.status);
      const over = await fetch(`${limited.baseUrl}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'x-api-key': key },
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
      });
      expect(statuses).toEqual([200, 200, 200]);
      expect(over.status).toBe(429);
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(((await over.json()) as { error: { code: number } }).error.code).toBe(-32002);
    } finally {
      await limited.stop();
    }
  });
});
