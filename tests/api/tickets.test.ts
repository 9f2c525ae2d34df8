import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ticket, AuditLog, Event } from '../../src/models/index.js';
import { ticketWorkflowId, stateQuery } from '../../workflows/definitions.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';
import { eventually } from '../helpers/eventually.js';
import { createApiKey, createGroup, createUser, ensureSlaPolicies, login, signedIn } from '../helpers/factories.js';

let h: Harness;
let admin: { token: string; user: { id: string } };
beforeAll(async () => {
  h = await startHarness({ confirmWaitMs: 3_000 });
  await ensureSlaPolicies(h.db);
  admin = await signedIn(h, 'admin');
});
afterAll(() => h.stop());

/** Every ticket id the API handed out in this file (201 or 202). */
const createdIds = new Set<string>();
const create = async (body: unknown, opts: { token?: string; headers?: Record<string, string> } = {}) => {
  const res = await call(h, 'POST', '/api/v1/tickets', { token: opts.token ?? admin.token, body, headers: opts.headers });
  if (typeof res.body?.id === 'string') createdIds.add(res.body.id);
  return res;
};

async function workflowIdsOfQueue(): Promise<string[]> {
  const ids: string[] = [];
  for await (const wf of h.temporal.client.workflow.list({ query: `TaskQueue='${h.config.temporal.taskQueue}'` })) ids.push(wf.workflowId);
  return ids;
}

describe('POST /tickets', () => {
  it('starts the ticket workflow, whose activity writes the row, and returns it', async () => {
    const res = await create({
      title: 'VPN down for the Paris office',
      description: 'Since 9am',
      priority: 'high',
      tags: ['vpn', 'vpn', 'network'],
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      title: 'VPN down for the Paris office',
      priority: 'high',
      status: 'open',
      tags: ['vpn', 'network'],
      created_via: 'rest',
      created_by_id: admin.user.id,
      version: 1,
    });
    expect(res.body.ticket_number).toMatch(/^ASM-\d{4,}$/);
    expect(res.headers.get('etag')).toBe('"1"');
    expect(res.headers.get('location')).toBe(`/api/v1/tickets/${res.body.id}`);
    expect(res.body.sla.assign).toMatchObject({ target_seconds: 1_800, state: 'running', at_risk: false, breached_at: null });
    expect(res.body.sla.resolve.target_seconds).toBe(28_800);

    const handle = h.temporal.client.workflow.getHandle(ticketWorkflowId(res.body.id));
    const description = await handle.describe();
    expect(description.status.name).toBe('RUNNING');
    expect(description.taskQueue).toBe(h.config.temporal.taskQueue);
    expect(await handle.query(stateQuery)).toMatchObject({ id: res.body.id, ticketNumber: res.body.ticket_number, version: 1 });
    // one audit entry and one event, written with the row
    expect(await AuditLog.query(h.db).where({ ticketId: res.body.id })).toHaveLength(1);
    const events = await Event.query(h.db).where({ ticketId: res.body.id });
    expect(events.map((e) => e.type)).toEqual(['ticket.created']);
    expect(events[0]!.payload).toMatchObject({ id: events[0]!.id, type: 'ticket.created', data: { ticket: { id: res.body.id } } });
    expect(events[0]!.id).toMatch(/^evt_/);
  });

  it('keeps the TicketNumber search attribute so the workflow can be found by number', async () => {
    const res = await create({ title: 'Find me by number', priority: 'critical' });
    expect(res.status).toBe(201);
    // numbers repeat across the test files' databases on the shared Temporal server: this file's task queue tells them apart
    const query = `TicketNumber='${res.body.ticket_number}' AND TicketPriority='critical' AND TicketStatus='open' AND TaskQueue='${h.config.temporal.taskQueue}'`;
    // visibility is eventually consistent
    const found = await eventually(async () => {
      const ids: string[] = [];
      for await (const wf of h.temporal.client.workflow.list({ query })) ids.push(wf.workflowId);
      return ids.length ? ids : null;
    }, 10_000);
    expect(found).toEqual([ticketWorkflowId(res.body.id)]);
  });

  it('validates the body and names each bad field (nothing is started)', async () => {
    const before = (await workflowIdsOfQueue()).length;
    const cases: [unknown, string][] = [
      [{}, 'title'],
      [{ title: '   ' }, 'title'],
      [{ title: 'x'.repeat(201) }, 'title'],
      [{ title: 'ok', priority: 'urgent' }, 'priority'],
      [{ title: 'ok', tags: 'not-an-array' }, 'tags'],
      [{ title: 'ok', assigned_group_id: 'not-a-uuid' }, 'assigned_group_id'],
      [{ title: 'ok', surprise: true }, ''],
    ];
    for (const [body, field] of cases) {
      const res = await create(body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error.code).toBe('validation_error');
      expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(field);
    }
    expect((await workflowIdsOfQueue()).length).toBe(before);
  });

  it('rejects references to a group or user that does not exist', async () => {
    const res = await create({ title: 'Ghost group', assigned_group_id: '00000000-0000-4000-8000-000000000000' });
    expect(res.status).toBe(422);
    expect(res.body.error.details[0].path).toBe('assigned_group_id');
    // REST's renderer names where valid ids are listed; the command's own message is transport-neutral
    expect(res.body.error.details[0]).toEqual({
      in: 'body',
      path: 'assigned_group_id',
      message: 'No group has this id (see GET /api/v1/groups).',
    });
  });

  it('requires the assigned user to be a member of the assigned group', async () => {
    const outsider = await createUser(h.db);
    const group = await createGroup(h.db);
    const res = await create({ title: 'Wrong member', assigned_group_id: group.id, assigned_user_id: outsider.id });
    expect(res.status).toBe(422);
    expect(res.body.error.details[0].path).toBe('assigned_user_id');
  });

  it('stores script and SQL payloads as plain data', async () => {
    const title = `'); DROP TABLE tickets; -- <script>alert(1)</script>`;
    const res = await create({ title, description: '" OR 1=1 --' });
    expect(res.status).toBe(201);
    expect((await Ticket.query(h.db).findById(res.body.id))!.title).toBe(title);
  });

  it('needs authentication', async () => {
    const res = await call(h, 'POST', '/api/v1/tickets', { body: { title: 'anon' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('refuses an API key without tickets:write', async () => {
    const user = await createUser(h.db, { role: 'manager' });
    const { plain } = await createApiKey(h.db, user, ['tickets:read']);
    const res = await call(h, 'POST', '/api/v1/tickets', { apiKey: plain, body: { title: 'read-only key' } });
    expect(res.status).toBe(403);
  });
});

describe('Idempotency-Key', () => {
  it('returns the original result on retry, with one ticket and one workflow', async () => {
    const headers = { 'idempotency-key': `key-${Date.now()}` };
    const first = await create({ title: 'Retry me' }, { headers });
    const second = await create({ title: 'Retry me' }, { headers });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(await Ticket.query(h.db).where({ title: 'Retry me' })).toHaveLength(1);
    expect((await workflowIdsOfQueue()).filter((id) => id === ticketWorkflowId(first.body.id))).toHaveLength(1);
  });

  it('concurrent retries with one key still create one ticket', async () => {
    const headers = { 'idempotency-key': `race-${Date.now()}` };
    const results = await Promise.all([1, 2, 3, 4].map(() => create({ title: 'Raced create' }, { headers })));
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201]);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    expect(await Ticket.query(h.db).where({ title: 'Raced create' })).toHaveLength(1);
  });

  it('refuses a key reused for a different request', async () => {
    const headers = { 'idempotency-key': `reuse-${Date.now()}` };
    expect((await create({ title: 'First body' }, { headers })).status).toBe(201);
    const res = await create({ title: 'Another body' }, { headers });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('idempotency_key_reused');
  });
});

describe('GET /tickets/{id}', () => {
  it('reads a ticket by UUID and by number (any case), with its ETag', async () => {
    const created = (await create({ title: 'Lookup' })).body;
    for (const ref of [created.id, created.ticket_number, created.ticket_number.toLowerCase()]) {
      const res = await call(h, 'GET', `/api/v1/tickets/${ref}`, { token: admin.token });
      expect(res.status, ref).toBe(200);
      expect(res.body).toMatchObject({ id: created.id, ticket_number: created.ticket_number });
      expect(res.headers.get('etag')).toBe('"1"');
    }
  });

  it('is 404 for an unknown ticket and 422 for a malformed reference', async () => {
    expect((await call(h, 'GET', '/api/v1/tickets/ASM-999999', { token: admin.token })).status).toBe(404);
    expect((await call(h, 'GET', '/api/v1/tickets/00000000-0000-4000-8000-000000000000', { token: admin.token })).status).toBe(404);
    const bad = await call(h, 'GET', `/api/v1/tickets/${encodeURIComponent("1' OR '1'='1")}`, { token: admin.token });
    expect(bad.status).toBe(422);
  });

  it("hides other groups' tickets from an agent (404, by UUID and by number)", async () => {
    const agent = await createUser(h.db, { role: 'agent' });
    const other = await createUser(h.db, { role: 'agent' });
    const myGroup = await createGroup(h.db, [agent]);
    const otherGroup = await createGroup(h.db, [other]);
    const agentToken = await login(h, agent.username);
    const mine = (await create({ title: 'Mine', assigned_group_id: myGroup.id })).body;
    const theirs = (await create({ title: 'Theirs', assigned_group_id: otherGroup.id })).body;
    expect((await call(h, 'GET', `/api/v1/tickets/${mine.id}`, { token: agentToken })).status).toBe(200);
    for (const ref of [theirs.id, theirs.ticket_number]) {
      const res = await call(h, 'GET', `/api/v1/tickets/${ref}`, { token: agentToken });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    }
    // an agent sees what they created, whatever its group
    const own = (await create({ title: 'Created by agent', assigned_group_id: otherGroup.id }, { token: agentToken })).body;
    expect((await call(h, 'GET', `/api/v1/tickets/${own.id}`, { token: agentToken })).status).toBe(200);
  });
});

describe('consistency: a ticket row exists iff its workflow exists', () => {
  it('holds for every ticket this file created', async () => {
    // both directions: the tickets of this file's workflows, and the rows of the tickets it created
    const workflows = (await workflowIdsOfQueue()).sort();
    const rows = await Ticket.query(h.db)
      .whereIn('id', [...createdIds])
      .select('id');
    expect(createdIds.size).toBeGreaterThan(0);
    expect(rows.map((r) => ticketWorkflowId(r.id)).sort()).toEqual(workflows);
  });

  it('a create accepted while the worker is down is written once it is back', async () => {
    await h.worker!.stop();
    const res = await create({ title: 'Accepted while the worker was down' }, { headers: { 'idempotency-key': `down-${Date.now()}` } });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ id: expect.any(String), status: 'pending' });
    expect(await Ticket.query(h.db).findById(res.body.id)).toBeUndefined();
    const description = await h.temporal.client.workflow.getHandle(ticketWorkflowId(res.body.id)).describe();
    expect(description.status.name).toBe('RUNNING');

    await h.startWorker();
    const row = await eventually(async () => Ticket.query(h.db).findById(res.body.id), 15_000);
    expect(row.title).toBe('Accepted while the worker was down');
    expect(await AuditLog.query(h.db).where({ ticketId: res.body.id })).toHaveLength(1);
    expect(await Event.query(h.db).where({ ticketId: res.body.id })).toHaveLength(1);
  });
});
