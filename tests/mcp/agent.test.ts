/**
 * What an agent needs to run a service desk through MCP alone (issue 16), through the official SDK
 * client against the real app, PostgreSQL and Temporal: the order of lists, notes it can read, text
 * content a model can act on, refused status moves, a status change and its note as one change,
 * truthful annotations, strict inputs, ids and idempotent retries, spec error codes, and the tools
 * beyond (whoami and the queue, REST's filters, attachments, completions).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, Ticket, TicketNote, type User } from '../../src/models/index.js';
import { createApiKey, createGroup, createUser, ensureSlaPolicies, unique } from '../helpers/factories.js';
import { eventually } from '../helpers/eventually.js';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let admin: User;
let adminKey: string;
let agent: User;
let agentKey: string;
let groupId: string;
let client: Client;
let tools: Map<string, Tool>;

async function connect(key: string, base = h.baseUrl): Promise<Client> {
  const c = new Client({ name: 'servicemeow-agent-tests', version: '1.0.0' });
  await c.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: { 'X-API-Key': key } } }));
  return c;
}

beforeAll(async () => {
  h = await startHarness({ env: { RATE_LIMIT_PER_MINUTE: '100000' } });
  await ensureSlaPolicies(h.db);
  admin = await createUser(h.db, { role: 'admin' });
  adminKey = (await createApiKey(h.db, admin)).plain;
  agent = await createUser(h.db, { role: 'agent' });
  agentKey = (await createApiKey(h.db, agent)).plain;
  groupId = (await createGroup(h.db, [agent])).id;
  client = await connect(adminKey);
  tools = new Map((await client.listTools()).tools.map((t) => [t.name, t]));
}, 120_000);
afterAll(async () => {
  await client?.close();
  await h?.stop();
});

type Result = CallToolResult & { structuredContent?: any };
const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
const call = async (name: string, args: Record<string, unknown> = {}, c = client): Promise<Result> =>
  (await c.callTool({ name, arguments: args })) as Result;
async function create(title: string, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await call('create_ticket', { title, ...extra });
  expect(r.isError, text(r)).toBeFalsy();
  return r.structuredContent.ticket_number as string;
}
const ticketIdOf = async (number: string): Promise<string> => (await h.db('tickets').where('ticket_number', number).first()).id;
const notesOf = async (number: string) => TicketNote.query(h.db).where('ticket_id', await ticketIdOf(number));
const statusChanges = async (number: string) =>
  AuditLog.query(h.db)
    .where('ticket_id', await ticketIdOf(number))
    .where('field_changed', 'status');

describe('defect 1: order', () => {
  it('lists most urgent first by default, takes sort_by/sort_order, keeps relevance when searching, and says so', async () => {
    const tag = unique('order');
    const low = await create('Order low', { priority: 'low', tags: [tag] });
    const critical = await create('Order critical', { priority: 'critical', tags: [tag] });
    const medium = await create('Order medium', { priority: 'medium', tags: [tag] });
    const numbers = (r: Result) => r.structuredContent.items.map((t: { ticket_number: string }) => t.ticket_number);

    expect(numbers(await call('list_tickets', { tag }))).toEqual([critical, medium, low]);
    expect(numbers(await call('list_tickets', { tag, sort_by: 'priority', sort_order: 'asc' }))).toEqual([low, medium, critical]);
    expect(numbers(await call('list_tickets', { tag, sort_by: 'created_at', sort_order: 'asc' }))).toEqual([low, critical, medium]);
    expect(tools.get('list_tickets')!.description).toMatch(/most urgent first/i);

    // relevance: the word in the title ranks above the word only in the description, whatever the priority
    const word = `zq${unique('w').slice(2).replace(/_/g, '')}`;
    const inTitle = await create(`${word} in the title`, { priority: 'low' });
    const inBody = await create('Elsewhere', { priority: 'critical', description: `mentions ${word} once` });
    expect(numbers(await call('list_tickets', { search: word }))).toEqual([inTitle, inBody]);
  });
});

describe('defect 2: notes can be read', () => {
  it('list_ticket_notes pages through notes; get_ticket, the resource and the triage prompt carry the recent ones', async () => {
    const number = await create('Has notes');
    for (const content of ['First look: cable', 'Second look: router', 'Third look: ISP'])
      expect((await call('add_ticket_note', { ticket: number, content })).isError).toBeFalsy();
    await call('add_ticket_note', { ticket: number, content: 'Told the requester', is_internal: false });

    const notes = await call('list_ticket_notes', { ticket: number });
    expect(notes.structuredContent).toMatchObject({ total: 4, page: 1, next_page: null });
    expect(notes.structuredContent.items.map((n: { content: string }) => n.content)).toEqual([
      'First look: cable',
      'Second look: router',
      'Third look: ISP',
      'Told the requester',
    ]);
    expect(notes.structuredContent.items.map((n: { is_internal: boolean }) => n.is_internal)).toEqual([true, true, true, false]);
    expect(text(notes)).toContain('Second look: router');
    const newest = await call('list_ticket_notes', { ticket: number, newest_first: true });
    expect(newest.structuredContent.items[0].content).toBe('Told the requester');

    const got = await call('get_ticket', { ticket: number });
    expect(got.structuredContent.recent_notes.map((n: { content: string }) => n.content)).toContain('Third look: ISP');
    expect(text(got)).toContain('Third look: ISP');

    const read = await client.readResource({ uri: `servicemeow://tickets/${number}` });
    const body = JSON.parse((read.contents[0] as { text: string }).text);
    expect(body.recent_notes.map((n: { content: string }) => n.content)).toContain('First look: cable');

    const prompt = await client.getPrompt({ name: 'triage_ticket', arguments: { ticket: number } });
    expect((prompt.messages[0]!.content as { text: string }).text).toContain('Second look: router');
  });

  it('an agent reads the notes of the tickets it may see, and no others', async () => {
    const agentClient = await connect(agentKey);
    try {
      const mine = await create('Agent group ticket', { assigned_group_id: groupId });
      await call('add_ticket_note', { ticket: mine, content: 'Visible to the group' });
      const other = await create('Not the agent group');
      await call('add_ticket_note', { ticket: other, content: 'Not for the agent' });
      const ok = await call('list_ticket_notes', { ticket: mine }, agentClient);
      expect(ok.structuredContent.items.map((n: { content: string }) => n.content)).toEqual(['Visible to the group']);
      const hidden = await call('list_ticket_notes', { ticket: other }, agentClient);
      expect(hidden.isError).toBe(true);
      expect(text(hidden)).not.toContain('Not for the agent');
    } finally {
      await agentClient.close();
    }
  });
});

describe('defect 3: text content a model can act on', () => {
  it('list text carries numbers, titles, status, priority, assignee, SLA and paging', async () => {
    const tag = unique('text');
    const a = await create('Printer on fire', {
      priority: 'critical',
      tags: [tag],
      assigned_group_id: groupId,
      assigned_user_id: agent.id,
    });
    const b = await create('Mouse squeaks', { priority: 'low', tags: [tag] });
    const r = await call('list_tickets', { tag, page_size: 1 });
    const t = text(r);
    expect(t).toContain(a);
    expect(t).toContain('"Printer on fire"');
    expect(t).toMatch(/critical, open/);
    expect(t).toContain(agent.id);
    expect(t).toMatch(/SLA assign met.*resolve running/);
    expect(t).toMatch(/2 tickets; page 1 shows 1; more with page=2/);
    expect(t).not.toContain(b);
    // every other list tool says what it lists, not only a count
    expect(text(await call('list_groups'))).toContain(groupId);
    expect(text(await call('list_users', { group_id: groupId }))).toContain(agent.username);
  });
});

describe('defect 4: resume and reopen refuse tickets they do not apply to', () => {
  it('resume_ticket refuses an open ticket, reopen_ticket an under_investigation one; nothing changes', async () => {
    const number = await create('Not paused');
    const resume = await call('resume_ticket', { ticket: number });
    expect(resume.isError).toBe(true);
    expect(text(resume)).toMatch(/is open, not paused.*reopen_ticket|update_ticket/);
    expect((await call('get_ticket', { ticket: number })).structuredContent.status).toBe('open');

    await call('update_ticket', { ticket: number, status: 'under_investigation' });
    const reopen = await call('reopen_ticket', { ticket: number });
    expect(reopen.isError).toBe(true);
    expect(text(reopen)).toMatch(/is under_investigation, not resolved/);
    expect((await call('get_ticket', { ticket: number })).structuredContent.status).toBe('under_investigation');
    expect(await statusChanges(number)).toHaveLength(1);
  });
});

describe('defect 5: a status change and its note are one change', () => {
  it('a refused pause stores no note', async () => {
    const number = await create('Pause refused');
    await call('resolve_ticket', { ticket: number });
    const bad = await call('pause_ticket', { ticket: number, note: 'Waiting for parts' });
    expect(bad.isError).toBe(true);
    expect(text(bad)).toMatch(/resolved ticket cannot become paused; allowed: open/);
    expect(await notesOf(number)).toHaveLength(0);
  });

  it('resolving twice leaves one note; a retry with the same request_id is answered once', async () => {
    const number = await create('Resolve twice');
    const first = await call('resolve_ticket', { ticket: number, note: 'Fixed the DNS' });
    expect(first.structuredContent).toMatchObject({ status: 'resolved', changed: true, note_id: expect.any(String) });
    const again = await call('resolve_ticket', { ticket: number, note: 'Fixed the DNS' });
    expect(again.isError).toBeFalsy();
    expect(again.structuredContent).toMatchObject({ status: 'resolved', changed: false, note_id: null });
    expect(text(again)).toMatch(/note was not added/);
    expect(await notesOf(number)).toHaveLength(1);

    const other = await create('Resolve retried');
    const args = { ticket: other, note: 'Replaced the disk', request_id: `retry-${unique('r')}` };
    const r1 = await call('resolve_ticket', args);
    const r2 = await call('resolve_ticket', args);
    expect(r2.structuredContent).toEqual(r1.structuredContent);
    expect(text(r2)).toMatch(/answered from the first call/);
    expect(await notesOf(other)).toHaveLength(1);
    expect(await statusChanges(other)).toHaveLength(1);
  });

  it('the status and its note are written in one version (one Update), the note with its own audit entry', async () => {
    const number = await create('One version');
    const id = await ticketIdOf(number);
    const before = await Ticket.query(h.db).findById(id);
    const r = await call('pause_ticket', { ticket: number, note: 'Waiting for parts' });
    expect(r.isError, text(r)).toBeFalsy();
    const after = await Ticket.query(h.db).findById(id);
    expect(after!.version).toBe(before!.version + 1);
    const rows = await AuditLog.query(h.db).where('ticket_id', after!.id).where('ticket_version', after!.version);
    expect(rows.map((a) => a.action).sort()).toEqual(['note_added', 'updated']);
    const notes = await notesOf(number);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ id: r.structuredContent?.note_id, isInternal: true, content: 'Waiting for parts' });
  });
});

describe('defect 6: annotations are truthful', () => {
  it('tools that overwrite fields are destructive; reads are read-only; create and note are additive', () => {
    for (const name of [
      'update_ticket',
      'assign_ticket',
      'bulk_update_tickets',
      'resolve_ticket',
      'pause_ticket',
      'resume_ticket',
      'reopen_ticket',
      'merge_tickets',
    ])
      expect(tools.get(name)!.annotations, name).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    for (const name of ['create_ticket', 'add_ticket_note'])
      expect(tools.get(name)!.annotations, name).toMatchObject({ readOnlyHint: false, destructiveHint: false, idempotentHint: false });
    for (const name of ['list_tickets', 'get_ticket', 'list_ticket_notes', 'whoami', 'read_attachment'])
      expect(tools.get(name)!.annotations, name).toMatchObject({ readOnlyHint: true, destructiveHint: false });
  });
});

describe('defect 7: no silent no-ops', () => {
  it('every tool declares additionalProperties: false and describes every argument', () => {
    for (const t of tools.values()) {
      expect(t.inputSchema.additionalProperties, t.name).toBe(false);
      for (const [k, v] of Object.entries(t.inputSchema.properties ?? {}))
        expect((v as { description?: string }).description, `${t.name}.${k}`).toBeTruthy();
    }
  });

  it('unknown arguments are refused naming the right one; empty updates are refused; one vocabulary', async () => {
    const number = await create('Strict inputs');
    const wrong = await call('update_ticket', { ticket: number, group_id: groupId });
    expect(wrong.isError).toBe(true);
    expect(text(wrong)).toMatch(/update_ticket does not take group_id \(did you mean assigned_group_id\?\)/);
    const misspelt = await call('update_ticket', { ticket: number, titel: 'x' });
    expect(text(misspelt)).toMatch(/does not take titel.*It takes: ticket, title/);
    const noteInAssign = await call('assign_ticket', { ticket: number, assigned_group_id: groupId, note: 'why' });
    expect(text(noteInAssign)).toMatch(/does not take note/);
    expect((await call('get_ticket', { ticket: number })).structuredContent).toMatchObject({ assigned_group_id: null, version: 1 });

    const empty = await call('update_ticket', { ticket: number });
    expect(empty.isError).toBe(true);
    expect(text(empty)).toMatch(/at least one field to change.*add_ticket_note/);
    expect((await call('assign_ticket', { ticket: number })).isError).toBe(true);
    expect((await call('bulk_update_tickets', { tickets: [number] })).isError).toBe(true);

    // assignment takes the same names everywhere, and update_ticket assigns too
    const assigned = await call('update_ticket', { ticket: number, assigned_group_id: groupId, assigned_user_id: agent.id });
    expect(assigned.structuredContent).toMatchObject({ assigned_group_id: groupId, assigned_user_id: agent.id });
    for (const name of ['create_ticket', 'update_ticket', 'assign_ticket', 'bulk_update_tickets', 'list_tickets'])
      expect(Object.keys(tools.get(name)!.inputSchema.properties!), name).toContain('assigned_group_id');
    // MCP gets REST's rules: tags trimmed and de-duplicated
    const tagged = await call('update_ticket', { ticket: number, tags: [' vpn ', 'vpn', 'wifi'] });
    expect(tagged.isError).toBeFalsy();
    expect((await call('get_ticket', { ticket: number })).structuredContent.tags).toEqual(['vpn', 'wifi']);
  });
});

describe('defect 8: ids and idempotent retries', () => {
  it('create_ticket with a request_id creates once; a retry gets the same ticket', async () => {
    const title = unique('Idempotent create');
    const requestId = `create-${unique('r')}`;
    const first = await call('create_ticket', { title, request_id: requestId });
    const second = await call('create_ticket', { title, request_id: requestId });
    expect(first.structuredContent.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(second.structuredContent.id).toBe(first.structuredContent.id);
    expect((await h.db('tickets').where({ title })).length).toBe(1);
    const reused = await call('create_ticket', { title: 'Something else', request_id: requestId });
    expect(reused.isError).toBe(true);
    expect(text(reused)).toMatch(/request_id was already used for a different request/);
  });

  it('a create answered pending has its id in structuredContent, and a retry with its request_id finds it', async () => {
    const slow = await startHarness({ worker: false, confirmWaitMs: 1_500, env: { RATE_LIMIT_PER_MINUTE: '100000' } });
    try {
      const user = await createUser(slow.db, { role: 'admin' });
      const c = await connect((await createApiKey(slow.db, user)).plain, slow.baseUrl);
      try {
        const requestId = `pending-${unique('r')}`;
        const pending = await call('create_ticket', { title: 'Workers asleep', request_id: requestId }, c);
        expect(pending.isError, text(pending)).toBeFalsy();
        expect(pending.structuredContent).toMatchObject({ pending: true, id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
        expect(text(pending)).toContain(pending.structuredContent.id);
        await slow.startWorker();
        // the worker applies the accepted create; a retry answers from it once it has (a retry
        // while the worker is still catching up answers pending again, with the same id)
        const retried = await eventually(async () => {
          const r = await call('create_ticket', { title: 'Workers asleep', request_id: requestId }, c);
          expect(r.structuredContent.id).toBe(pending.structuredContent.id);
          return r.structuredContent.pending ? undefined : r;
        });
        expect(retried.structuredContent).toMatchObject({ id: pending.structuredContent.id, pending: false, status: 'open' });
        expect((await slow.db('tickets').where({ title: 'Workers asleep' })).length).toBe(1);
      } finally {
        await c.close();
      }
    } finally {
      await slow.stop();
    }
  }, 120_000);
});

describe('defect 9: codes, scopes, dates, plurals', () => {
  it('a missing resource is -32002, a prompt for a missing ticket -32602', async () => {
    const resource = await client.readResource({ uri: 'servicemeow://tickets/ASM-99999999' }).catch((e: unknown) => e);
    expect(resource).toBeInstanceOf(McpError);
    expect((resource as McpError).code).toBe(-32002);
    expect((resource as McpError).message).toMatch(/list_tickets/);
    const prompt = await client.getPrompt({ name: 'triage_ticket', arguments: { ticket: 'ASM-99999999' } }).catch((e: unknown) => e);
    expect((prompt as McpError).code).toBe(-32602);
  });

  it('a read-only key calling a write tool is told the scope it needs', async () => {
    const reader = await connect((await createApiKey(h.db, admin, ['tickets:read'])).plain);
    const agentClient = await connect(agentKey);
    try {
      const res = await call('create_ticket', { title: 'sneaky' }, reader);
      expect(res.isError).toBe(true);
      expect(text(res)).toMatch(/needs the tickets:write scope/);
      expect(text(res)).not.toMatch(/not found/);
      const dash = await call('get_dashboard_summary', {}, agentClient);
      expect(text(dash)).toMatch(/admins and managers/);
    } finally {
      await reader.close();
      await agentClient.close();
    }
  });

  it('get_sla_metrics takes a plain date like REST; counts are singular when one', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const r = await call('get_sla_metrics', { date_from: today, date_to: today });
    expect(r.isError, text(r)).toBeFalsy();
    expect(r.structuredContent.overall.tickets).toBeGreaterThan(0);
    // the range rule is the command's, as for REST (422 there)
    const backwards = await call('get_sla_metrics', { date_from: today, date_to: '2020-01-01' });
    expect(backwards.isError).toBe(true);
    expect(text(backwards)).toMatch(/date_to: must be after date_from/);
    const tag = unique('one');
    await create('Only one', { tags: [tag] });
    const one = await call('list_tickets', { tag });
    expect(text(one)).toMatch(/^1 ticket;/);
    expect(text(one)).not.toMatch(/1 tickets/);
  });
});

describe('beyond the anchors', () => {
  it('get_ticket names the statuses a ticket may move to', async () => {
    const number = await create('Transitions');
    expect((await call('get_ticket', { ticket: number })).structuredContent.allowed_next).toEqual([
      'under_investigation',
      'paused',
      'waiting_on_customer',
      'resolved',
    ]);
    await call('resolve_ticket', { ticket: number });
    const resolved = await call('get_ticket', { ticket: number });
    expect(resolved.structuredContent.allowed_next).toEqual(['open']);
    expect(text(resolved)).toMatch(/Allowed next statuses: open/);
  });

  it("whoami shows the key's user, role and groups, and its queue most urgent first", async () => {
    const agentClient = await connect(agentKey);
    try {
      const low = await create('Queue low', { priority: 'low', assigned_group_id: groupId });
      const high = await create('Queue high', { priority: 'high', assigned_group_id: groupId, assigned_user_id: agent.id });
      const done = await create('Queue resolved', { priority: 'critical', assigned_group_id: groupId });
      await call('resolve_ticket', { ticket: done });
      const me = await call('whoami', {}, agentClient);
      expect(me.structuredContent.user).toMatchObject({ id: agent.id, role: 'agent' });
      expect(me.structuredContent.groups.map((g: { id: string }) => g.id)).toEqual([groupId]);
      const queue = me.structuredContent.queue.items.map((t: { ticket_number: string }) => t.ticket_number);
      expect(queue.indexOf(high)).toBeLessThan(queue.indexOf(low));
      expect(queue).not.toContain(done);
      expect(text(me)).toContain(high);
    } finally {
      await agentClient.close();
    }
  });

  it("list_tickets takes REST's filters and full-text syntax", async () => {
    const tag = unique('filters');
    const cat = unique('cat');
    const a = await create('Wireless keyboard lag', { tags: [tag], category: cat, priority: 'high' });
    const b = await create('Wireless mouse lag', { tags: [tag], priority: 'low' });
    const nums = (r: Result) => r.structuredContent.items.map((t: { ticket_number: string }) => t.ticket_number);
    expect(nums(await call('list_tickets', { tag, category: cat }))).toEqual([a]);
    expect(nums(await call('list_tickets', { tag, priority: ['low'] }))).toEqual([b]);
    expect(nums(await call('list_tickets', { tag, search: 'wireless -mouse' }))).toEqual([a]);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    expect(nums(await call('list_tickets', { tag, updated_since: tomorrow }))).toEqual([]);
    expect(nums(await call('list_tickets', { tag, sla_breached: false }))).toHaveLength(2);
  });

  it('lists and reads a text attachment; an unknown attachment is an error', async () => {
    const number = await create('With a log');
    const form = new FormData();
    form.append('file', new Blob(['line 1: connection reset\nline 2: retry\n'], { type: 'text/plain' }), 'vpn.log');
    const up = await fetch(`${h.baseUrl}/api/v1/tickets/${number}/attachments`, {
      method: 'POST',
      headers: { 'X-API-Key': adminKey },
      body: form,
    });
    expect(up.status).toBe(201);
    const list = await call('list_ticket_attachments', { ticket: number });
    expect(list.structuredContent.items).toHaveLength(1);
    const { id, filename } = list.structuredContent.items[0];
    expect(filename).toBe('vpn.log');
    expect(text(list)).toContain(id);
    const read = await call('read_attachment', { attachment_id: id });
    expect(read.structuredContent).toMatchObject({ text: 'line 1: connection reset\nline 2: retry\n', truncated: false });
    const missing = await call('read_attachment', { attachment_id: '00000000-0000-4000-8000-000000000000' });
    expect(missing.isError).toBe(true);
  });

  it('completes ticket numbers for the prompt and the resource template', async () => {
    const number = await create('Complete me');
    const prefix = number.slice(0, number.length - 1);
    const prompt = await client.complete({
      ref: { type: 'ref/prompt', name: 'triage_ticket' },
      argument: { name: 'ticket', value: prefix },
    });
    expect(prompt.completion.values).toContain(number);
    expect(prompt.completion.values.every((v) => v.startsWith(prefix))).toBe(true);
    const resource = await client.complete({
      ref: { type: 'ref/resource', uri: 'servicemeow://tickets/{number}' },
      argument: { name: 'number', value: prefix.toLowerCase() },
    });
    expect(resource.completion.values).toContain(number);
  });
});
