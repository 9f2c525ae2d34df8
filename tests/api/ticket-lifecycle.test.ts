import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Event, Ticket } from '../../src/models/index.js';
import { ticketWorkflowId } from '../../workflows/definitions.js';
import { TICKET_STATUSES } from '../../workflows/vocabulary.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';
import { eventually } from '../helpers/eventually.js';
import { createApiKey, createGroup, createUser, ensureSlaPolicies, login, signedIn } from '../helpers/factories.js';

let h: Harness;
let admin: Awaited<ReturnType<typeof signedIn>>;
beforeAll(async () => {
  h = await startHarness();
  await ensureSlaPolicies(h.db);
  admin = await signedIn(h, 'admin');
});
afterAll(() => h.stop());

const create = async (body: Record<string, unknown> = {}, token = admin.token) => {
  const res = await call(h, 'POST', '/api/v1/tickets', { token, body: { title: 'Lifecycle', ...body } });
  expect(res.status).toBe(201);
  return res.body;
};
const patch = (ref: string, body: unknown, opts: { token?: string; ifMatch?: string; apiKey?: string } = {}) =>
  call(h, 'PATCH', `/api/v1/tickets/${ref}`, {
    token: opts.apiKey ? undefined : (opts.token ?? admin.token),
    apiKey: opts.apiKey,
    body,
    headers: opts.ifMatch ? { 'if-match': opts.ifMatch } : {},
  });

describe('PATCH /tickets/{id}', () => {
  it('changes fields through the workflow, bumps the version and the ETag', async () => {
    const t = await create();
    const res = await patch(t.ticket_number, { title: 'Renamed', priority: 'critical', category: 'network', tags: ['vpn'] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ title: 'Renamed', priority: 'critical', category: 'network', tags: ['vpn'], version: 2 });
    expect(res.headers.get('etag')).toBe('"2"');
    const state = await h.temporal.client.workflow.getHandle(ticketWorkflowId(t.id)).query('state');
    expect(state).toMatchObject({ title: 'Renamed', priority: 'critical', version: 2 });
  });

  it('walks every allowed transition and refuses the others with 409 naming the allowed ones', async () => {
    const STATUSES = ['open', 'under_investigation', 'paused', 'resolved'] as const;
    const ALLOWED: Record<string, string[]> = {
      open: ['under_investigation', 'paused', 'resolved'],
      under_investigation: ['open', 'paused', 'resolved'],
      paused: ['open', 'under_investigation', 'resolved'],
      resolved: ['open'],
    };
    const reach: Record<string, string[]> = {
      open: [],
      under_investigation: ['under_investigation'],
      paused: ['paused'],
      resolved: ['resolved'],
    };
    for (const from of STATUSES) {
      for (const to of STATUSES.filter((s) => s !== from)) {
        const t = await create({ title: `${from} to ${to}` });
        for (const step of reach[from]!) expect((await patch(t.id, { status: step })).status).toBe(200);
        const res = await patch(t.id, { status: to });
        if (ALLOWED[from]!.includes(to)) {
          expect(res.status, `${from} → ${to}`).toBe(200);
          expect(res.body.status).toBe(to);
        } else {
          expect(res.status, `${from} → ${to}`).toBe(409);
          expect(res.body.error).toMatchObject({ code: 'invalid_transition', details: { from, to, allowed: ALLOWED[from] } });
        }
      }
    }
  });

  it('honours If-Match: the current ETag applies, a stale one is 412, a malformed one 400', async () => {
    const t = await create();
    expect((await patch(t.id, { title: 'v2' }, { ifMatch: '"1"' })).status).toBe(200);
    const stale = await patch(t.id, { title: 'v3' }, { ifMatch: '"1"' });
    expect(stale.status).toBe(412);
    expect(stale.body.error.details).toMatchObject({ expected_version: 1, current_version: 2 });
    expect((await patch(t.id, { title: 'v3' }, { ifMatch: 'W/"2"' })).status).toBe(200);
    expect((await patch(t.id, { title: 'v4' }, { ifMatch: 'banana' })).status).toBe(400);
    expect((await Ticket.query(h.db).findById(t.id))!.title).toBe('v3');
  });

  it('a change that changes nothing keeps the version', async () => {
    const t = await create({ priority: 'low' });
    const res = await patch(t.id, { priority: 'low' });
    expect(res.status).toBe(200);
    expect(res.body.version).toBe(1);
  });

  it('validates bodies (empty, unknown field, bad values) and assignment references', async () => {
    const t = await create();
    for (const body of [{}, { status: 'closed' }, { title: '' }, { colour: 'red' }, { assigned_user_id: 'x' }]) {
      expect((await patch(t.id, body)).status, JSON.stringify(body)).toBe(422);
    }
    const outsider = await createUser(h.db);
    const group = await createGroup(h.db);
    expect((await patch(t.id, { assigned_group_id: group.id, assigned_user_id: outsider.id })).status).toBe(422);
    expect((await patch('ASM-999999', { title: 'x' })).status).toBe(404);
    expect((await call(h, 'PATCH', `/api/v1/tickets/${t.id}`, { body: { title: 'x' } })).status).toBe(401);
  });

  it('assigns, records first assignment, and keeps search attributes current', async () => {
    const member = await createUser(h.db);
    const group = await createGroup(h.db, [member]);
    const t = await create();
    const res = await patch(t.id, { assigned_group_id: group.id, assigned_user_id: member.id, status: 'under_investigation' });
    expect(res.body).toMatchObject({ assigned_group_id: group.id, assigned_user_id: member.id, first_assigned_at: expect.any(String) });
    expect(res.body.sla.assign.state).toBe('met');
    const query = `AssignedUser='${member.id}' AND TicketStatus='under_investigation'`;
    const found = await eventually(async () => {
      const ids: string[] = [];
      for await (const wf of h.temporal.client.workflow.list({ query })) ids.push(wf.workflowId);
      return ids.length ? ids : null;
    }, 10_000);
    expect(found).toEqual([ticketWorkflowId(t.id)]);
  });

  it('audits every field change with actor and old/new values, and emits the matching events', async () => {
    const manager = await createUser(h.db, { role: 'manager' });
    const { plain } = await createApiKey(h.db, manager);
    const t = await create();
    await patch(t.id, { status: 'paused', priority: 'high' }, { apiKey: plain });
    await patch(t.id, { status: 'open' });
    const log = (await call(h, 'GET', `/api/v1/tickets/${t.id}/audit-log`, { token: admin.token })).body;
    expect(log.items.map((e: any) => [e.ticket_version, e.action, e.field_changed, e.old_value, e.new_value, e.actor_type])).toEqual([
      [1, 'created', null, null, { title: 'Lifecycle', priority: 'medium' }, 'user'],
      [2, 'updated', 'priority', 'medium', 'high', 'api_key'],
      [2, 'updated', 'status', 'open', 'paused', 'api_key'],
      [3, 'updated', 'status', 'paused', 'open', 'user'],
    ]);
    expect(log.items[1].actor_id).toBe(manager.id);
    const events = await Event.query(h.db).where({ ticketId: t.id }).orderBy('seq');
    expect(events.map((e) => e.type)).toEqual([
      'ticket.created',
      'ticket.updated',
      'ticket.status_changed',
      'ticket.paused',
      'ticket.updated',
      'ticket.status_changed',
      'ticket.resumed',
    ]);
    expect(events[3]!.payload.data).toMatchObject({
      changes: { status: { old: 'open', new: 'paused' } },
      actor: { type: 'api_key', user_id: manager.id },
    });
  });
});

describe('notes', () => {
  it('adds sanitised notes, lists them, and lets the author edit (edited_at kept)', async () => {
    const agent = await createUser(h.db);
    const group = await createGroup(h.db, [agent]);
    const agentToken = await login(h, agent.username);
    const t = await create({ assigned_group_id: group.id });
    const added = await call(h, 'POST', `/api/v1/tickets/${t.id}/notes`, {
      token: agentToken,
      body: {
        content: '<p onclick="x()">Rebooted <b>router</b><script>alert(1)</script> <a href="javascript:evil()">x</a></p>',
        is_internal: true,
      },
    });
    expect(added.status).toBe(201);
    expect(added.body.content).toBe('<p>Rebooted <b>router</b> <a rel="noopener noreferrer nofollow">x</a></p>');
    expect(added.body).toMatchObject({ is_internal: true, author_id: agent.id, edited_at: null });
    expect(
      (await call(h, 'POST', `/api/v1/tickets/${t.id}/notes`, { token: agentToken, body: { content: '<script>only</script>' } })).status,
    ).toBe(422);

    const edited = await call(h, 'PATCH', `/api/v1/tickets/${t.id}/notes/${added.body.id}`, {
      token: agentToken,
      body: { content: 'Replaced the router' },
    });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ content: 'Replaced the router', edited_at: expect.any(String) });

    const other = await signedIn(h, 'agent');
    await call(h, 'POST', `/api/v1/groups/${group.id}/members`, { token: admin.token, body: { user_id: other.user.id } });
    expect(
      (await call(h, 'PATCH', `/api/v1/tickets/${t.id}/notes/${added.body.id}`, { token: other.token, body: { content: 'hijack' } }))
        .status,
    ).toBe(403);
    expect(
      (await call(h, 'PATCH', `/api/v1/tickets/${t.id}/notes/${added.body.id}`, { token: admin.token, body: { content: 'By a manager' } }))
        .status,
    ).toBe(200);

    const list = await call(h, 'GET', `/api/v1/tickets/${t.id}/notes`, { token: agentToken });
    expect(list.body.items.map((n: { content: string }) => n.content)).toEqual(['By a manager']);
    const audit = (await call(h, 'GET', `/api/v1/tickets/${t.id}/audit-log`, { token: admin.token })).body.items.map((e: any) => e.action);
    expect(audit).toEqual(['created', 'note_added', 'note_edited', 'note_edited']);
    const other404 = await create();
    expect(
      (await call(h, 'PATCH', `/api/v1/tickets/${other404.id}/notes/${added.body.id}`, { token: admin.token, body: { content: 'x' } }))
        .status,
    ).toBe(404);
  });

  it('an Idempotency-Key makes a retried note one note', async () => {
    const t = await create();
    const headers = { 'idempotency-key': `note-${Date.now()}` };
    const a = await call(h, 'POST', `/api/v1/tickets/${t.id}/notes`, { token: admin.token, body: { content: 'once' }, headers });
    const b = await call(h, 'POST', `/api/v1/tickets/${t.id}/notes`, { token: admin.token, body: { content: 'once' }, headers });
    expect(b.body).toEqual(a.body);
    expect((await call(h, 'GET', `/api/v1/tickets/${t.id}/notes`, { token: admin.token })).body.total).toBe(1);
  });
});

describe('DELETE /tickets/{id}', () => {
  it('soft-deletes: the workflow completes, reads 404, the row keeps deleted_at', async () => {
    const t = await create();
    const agent = await signedIn(h, 'agent');
    const mine = await create({ title: 'agent ticket' }, agent.token);
    expect((await call(h, 'DELETE', `/api/v1/tickets/${mine.id}`, { token: agent.token })).status).toBe(403);
    expect((await call(h, 'DELETE', `/api/v1/tickets/${t.id}`, { token: admin.token })).status).toBe(204);
    expect((await call(h, 'GET', `/api/v1/tickets/${t.id}`, { token: admin.token })).status).toBe(404);
    expect((await patch(t.id, { title: 'ghost' })).status).toBe(404);
    expect((await Ticket.query(h.db).findById(t.id))!.deletedAt).toBeInstanceOf(Date);
    const handle = h.temporal.client.workflow.getHandle(ticketWorkflowId(t.id));
    await handle.result();
    expect((await handle.describe()).status.name).toBe('COMPLETED');
    expect(await Event.query(h.db).where({ ticketId: t.id, type: 'ticket.deleted' }).resultSize()).toBe(1);
  });
});

describe('GET /tickets', () => {
  it('filters, sorts by urgency, paginates, and hides what an agent may not see', async () => {
    const agent = await createUser(h.db);
    const group = await createGroup(h.db, [agent]);
    const tag = `tag-${Date.now()}`;
    await create({ title: 'L', priority: 'low', tags: [tag], assigned_group_id: group.id });
    await create({ title: 'C', priority: 'critical', tags: [tag], assigned_group_id: group.id });
    await create({ title: 'H', priority: 'high', tags: [tag] });
    const byUrgency = await call(h, 'GET', `/api/v1/tickets?tag=${tag}&sort_by=priority&sort_order=desc`, { token: admin.token });
    expect(byUrgency.body.items.map((t: { title: string }) => t.title)).toEqual(['C', 'H', 'L']);
    const page = await call(h, 'GET', `/api/v1/tickets?tag=${tag}&page_size=2&page=2&sort_by=title&sort_order=asc`, { token: admin.token });
    expect(page.body).toMatchObject({ total: 3, page: 2, page_size: 2, pages: 2 });
    expect(page.body.items.map((t: { title: string }) => t.title)).toEqual(['L']);
    const filtered = await call(h, 'GET', `/api/v1/tickets?tag=${tag}&priority=low,high&assigned_group_id=${group.id}`, {
      token: admin.token,
    });
    expect(filtered.body.items.map((t: { title: string }) => t.title)).toEqual(['L']);
    const agentToken = await login(h, agent.username);
    const visible = await call(h, 'GET', `/api/v1/tickets?tag=${tag}`, { token: agentToken });
    expect(visible.body.items.map((t: { title: string }) => t.title).sort()).toEqual(['C', 'L']);
    for (const q of ['status=closed', 'page_size=500', 'sort_by=secret', 'sla_breached=maybe', 'created_by_id=1']) {
      expect((await call(h, 'GET', `/api/v1/tickets?${q}`, { token: admin.token })).status, q).toBe(422);
    }
  });

  it('searches full text, ranking title matches first, and finds exact numbers', async () => {
    const word = `zyx${Date.now()}`;
    const inDescription = await create({ title: 'Unrelated', description: `mentions ${word} once` });
    const inTitle = await create({ title: `Outage of ${word}`, description: 'details' });
    const res = await call(h, 'GET', `/api/v1/tickets?search=${encodeURIComponent(word)}`, { token: admin.token });
    expect(res.body.items.map((t: { id: string }) => t.id)).toEqual([inTitle.id, inDescription.id]);
    const negated = await call(h, 'GET', `/api/v1/tickets?search=${encodeURIComponent(`${word} -outage`)}`, { token: admin.token });
    expect(negated.body.items.map((t: { id: string }) => t.id)).toEqual([inDescription.id]);
    const byNumber = await call(h, 'GET', `/api/v1/tickets?search=${inTitle.ticket_number.toLowerCase()}`, { token: admin.token });
    expect(byNumber.body.items.map((t: { id: string }) => t.id)).toEqual([inTitle.id]);
    const hostile = await call(h, 'GET', `/api/v1/tickets?search=${encodeURIComponent("'); DROP TABLE tickets; --")}`, {
      token: admin.token,
    });
    expect(hostile.status).toBe(200);
  });
});

describe('dashboard', () => {
  it('summarises counts for managers, refuses agents, and shows recent activity', async () => {
    const group = await createGroup(h.db);
    await create({ assigned_group_id: group.id });
    const second = await create({ assigned_group_id: group.id, priority: 'critical' });
    const manager = await signedIn(h, 'manager');
    const summary = await call(h, 'GET', '/api/v1/dashboard/summary', { token: manager.token });
    expect(summary.status).toBe(200);
    expect(Object.keys(summary.body.by_status)).toEqual([...TICKET_STATUSES]);
    expect(summary.body.by_group.find((g: { group_id: string }) => g.group_id === group.id)).toMatchObject({
      count: 2,
      group_name: group.name,
    });
    expect(summary.body.total).toBeGreaterThanOrEqual(2);
    const agent = await signedIn(h, 'agent');
    expect((await call(h, 'GET', '/api/v1/dashboard/summary', { token: agent.token })).status).toBe(403);
    const activity = await call(h, 'GET', '/api/v1/dashboard/activity?page_size=100', { token: manager.token });
    expect(
      activity.body.items.some(
        (e: { ticket_id: string; ticket_number: string }) => e.ticket_id === second.id && e.ticket_number === second.ticket_number,
      ),
    ).toBe(true);
  });
});
