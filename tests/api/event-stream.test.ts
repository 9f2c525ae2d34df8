import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envelope } from '../../src/events/envelope.js';
import { insertEvent } from '../../src/events/store.js';
import { Event } from '../../src/models/index.js';
import { eventually } from '../helpers/eventually.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';
import { createGroup, createUser, ensureSlaPolicies, login, signedIn } from '../helpers/factories.js';
import { SseClient } from '../helpers/sse.js';

let h: Harness;
let admin: Awaited<ReturnType<typeof signedIn>>;
const open: SseClient[] = [];
beforeAll(async () => {
  h = await startHarness({
    env: { RATE_LIMIT_PER_MINUTE: '100000' },
    stream: { heartbeatMs: 300, bufferLimitBytes: 64 * 1024, maxBacklog: 5 },
  });
  await ensureSlaPolicies(h.db);
  admin = await signedIn(h, 'admin');
});
afterAll(async () => {
  open.forEach((c) => c.close());
  await h.stop();
});

async function subscribe(token: string, query = '', headers: Record<string, string> = {}, base = h.baseUrl) {
  const client = await SseClient.open(`${base}/api/v1/events/stream${query}`, { authorization: `Bearer ${token}`, ...headers });
  open.push(client);
  return client;
}
const create = async (body: Record<string, unknown> = {}, token = admin.token) =>
  (await call(h, 'POST', '/api/v1/tickets', { token, body: { title: 'Streamed', ...body } })).body;

describe('GET /events/stream', () => {
  it('streams each event with its id, type and the webhook envelope', async () => {
    const stream = await subscribe(admin.token);
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    expect(stream.headers.get('x-request-id')).toBeTruthy();
    const t = await create();
    await stream.waitFor(() => stream.events.some((e) => e.data?.data?.ticket?.id === t.id));
    const frame = stream.events.find((e) => e.data.data.ticket.id === t.id)!;
    expect(frame.event).toBe('ticket.created');
    expect(frame.id).toMatch(/^evt_/);
    expect(frame.data).toMatchObject({
      id: frame.id,
      type: 'ticket.created',
      timestamp: expect.any(String),
      data: { ticket: { ticket_number: t.ticket_number }, actor: { type: 'user' } },
    });
  });

  it('filters by ticket (UUID or number) and by types', async () => {
    const t = await create();
    const other = await create();
    const stream = await subscribe(admin.token, `?ticket_id=${t.ticket_number}&types=ticket.status_changed,ticket.note_added`);
    await call(h, 'PATCH', `/api/v1/tickets/${other.id}`, { token: admin.token, body: { status: 'paused' } });
    await call(h, 'PATCH', `/api/v1/tickets/${t.id}`, { token: admin.token, body: { status: 'paused', priority: 'low' } });
    await call(h, 'POST', `/api/v1/tickets/${t.id}/notes`, { token: admin.token, body: { content: 'hi' } });
    // barrier: events arrive in stream order, so once this one is here anything let through before it is too
    await call(h, 'PATCH', `/api/v1/tickets/${t.id}`, { token: admin.token, body: { status: 'open' } });
    await stream.waitFor(() => stream.events.some((e) => e.event === 'ticket.status_changed' && e.data.data.ticket.status === 'open'));
    expect(stream.events.map((e) => [e.event, e.data.data.ticket.id])).toEqual([
      ['ticket.status_changed', t.id],
      ['ticket.note_added', t.id],
      ['ticket.status_changed', t.id],
    ]);
  });

  it("never shows an agent another group's tickets, live or replayed", async () => {
    const agent = await createUser(h.db);
    const mine = await createGroup(h.db, [agent]);
    const theirs = await createGroup(h.db);
    const token = await login(h, agent.username);
    const stream = await subscribe(token);
    const hidden = await create({ title: 'hidden', assigned_group_id: theirs.id });
    await eventually(async () => Event.query(h.db).findOne({ ticketId: hidden.id, type: 'ticket.created' })); // committed (even if 202)
    const visible = await create({ title: 'visible', assigned_group_id: mine.id });
    // `hidden` committed before `visible`: in stream order it would have come first
    await stream.waitFor(() => stream.events.some((e) => e.data.data.ticket.id === visible.id));
    expect(stream.events.some((e) => e.data.data.ticket.id === hidden.id)).toBe(false);
    // and through replay
    const first = stream.events[0]!.id!;
    const replayed = await subscribe(token, '', { 'last-event-id': first });
    await call(h, 'PATCH', `/api/v1/tickets/${hidden.id}`, { token: admin.token, body: { priority: 'high' } });
    await call(h, 'PATCH', `/api/v1/tickets/${visible.id}`, { token: admin.token, body: { priority: 'high' } });
    await replayed.waitFor(() => replayed.events.some((e) => e.event === 'ticket.updated' && e.data.data.ticket.id === visible.id));
    expect(replayed.events.every((e) => e.data.data.ticket.id !== hidden.id)).toBe(true);
    // a ticket the agent may not see cannot be asked for by id either
    expect((await subscribe(token, `?ticket_id=${hidden.id}`)).status).toBe(404);
  });

  it('resumes after Last-Event-ID with no gap and no repeat, then continues live', async () => {
    const t = await create();
    const first = await subscribe(admin.token, `?ticket_id=${t.id}`);
    await call(h, 'PATCH', `/api/v1/tickets/${t.id}`, { token: admin.token, body: { title: 'one' } });
    // the stream may still deliver the creation (committed just before it subscribed): wait for 'one'
    const seen = (title: string) => first.events.find((e) => e.event === 'ticket.updated' && e.data.data.ticket.title === title);
    await first.waitFor(() => !!seen('one'));
    const lastSeen = seen('one')!.id!;
    first.close();
    await call(h, 'PATCH', `/api/v1/tickets/${t.id}`, { token: admin.token, body: { title: 'two' } }); // missed while away
    const resumed = await subscribe(admin.token, `?ticket_id=${t.id}&types=ticket.updated`, { 'last-event-id': lastSeen });
    await resumed.waitFor(() => resumed.events.length >= 1);
    await call(h, 'PATCH', `/api/v1/tickets/${t.id}`, { token: admin.token, body: { title: 'three' } });
    // barrier: events arrive in stream order, so once 'four' is here any repeat or gap before it is too
    await call(h, 'PATCH', `/api/v1/tickets/${t.id}`, { token: admin.token, body: { title: 'four' } });
    await resumed.waitFor(() => resumed.events.some((e) => e.data.data.ticket.title === 'four'));
    expect(resumed.events.map((e) => e.data.data.ticket.title)).toEqual(['two', 'three', 'four']);
  });

  it('says so when it cannot resume: unknown id, or a backlog over the bound', async () => {
    const unknown = await subscribe(admin.token, '', { 'last-event-id': 'evt_nope' });
    await unknown.waitFor((f) => f.some((x) => x.event === 'resync'));
    expect(unknown.frames.find((x) => x.event === 'resync')!.data.code).toBe('unknown_event_id');
    const t = await create();
    const probe = await subscribe(admin.token, `?ticket_id=${t.id}`);
    await call(h, 'PATCH', `/api/v1/tickets/${t.id}`, { token: admin.token, body: { title: 'start' } });
    await probe.waitFor(() => probe.events.length >= 1);
    for (let i = 0; i < 6; i++) await call(h, 'PATCH', `/api/v1/tickets/${t.id}`, { token: admin.token, body: { title: `n${i}` } });
    const tooOld = await subscribe(admin.token, `?ticket_id=${t.id}&last_event_id=${probe.events[0]!.id}`);
    await tooOld.waitFor((f) => f.some((x) => x.event === 'resync'));
    expect(tooOld.frames.find((x) => x.event === 'resync')!.data.code).toBe('backlog_too_large');
  });

  it('counts events a transaction open elsewhere keeps unsettled toward the backlog bound', async () => {
    const t = await create();
    const probe = await subscribe(admin.token, `?ticket_id=${t.id}`);
    await call(h, 'PATCH', `/api/v1/tickets/${t.id}`, { token: admin.token, body: { title: 'start' } });
    await probe.waitFor(() => probe.events.length >= 1);
    // an open transaction with an id holds the settled horizon: the changes below stay unsettled
    const held = await h.db.transaction();
    try {
      await held.raw('SELECT pg_current_xact_id()');
      for (let i = 0; i < 6; i++) await call(h, 'PATCH', `/api/v1/tickets/${t.id}`, { token: admin.token, body: { title: `h${i}` } });
      const tooOld = await subscribe(admin.token, `?ticket_id=${t.id}&last_event_id=${probe.events[0]!.id}`);
      await tooOld.waitFor((f) => f.some((x) => x.event === 'resync'));
      expect(tooOld.frames.find((x) => x.event === 'resync')!.data.code).toBe('backlog_too_large');
    } finally {
      await held.rollback();
    }
  });

  it('sends heartbeats', async () => {
    const stream = await subscribe(admin.token);
    await stream.waitFor((f) => f.filter((x) => x.comment === 'keep-alive').length >= 2, 5_000);
  });

  it('validates its query and needs credentials', async () => {
    expect((await subscribe(admin.token, '?types=ticket.exploded')).status).toBe(422);
    // every stored event type can be filtered on, webhook.disabled included (one list for both)
    expect((await subscribe(admin.token, '?types=webhook.disabled,webhook.test')).status).toBe(200);
    expect((await SseClient.open(`${h.baseUrl}/api/v1/events/stream`, {})).status).toBe(401);
  });

  it('reaches subscribers of another API instance (fan-out through PostgreSQL)', async () => {
    const other = await startHarness({ worker: false });
    try {
      const stream = await subscribe(admin.token, '', {}, other.baseUrl);
      const t = await create(); // written by this file's worker, served by the other instance
      await stream.waitFor(() => stream.events.some((e) => e.data.data.ticket.id === t.id));
    } finally {
      await other.stop();
    }
  });

  it('drops a client that stops reading, without delaying the others', async () => {
    // The other subscriber only wants creations, so the flood below does not load it.
    const other = await subscribe(admin.token, '?types=ticket.created');
    // A raw client that sends the request and never reads the response.
    const slow = net.connect(h.http.port, '127.0.0.1');
    slow.pause();
    slow.write(`GET /api/v1/events/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${admin.token}\r\n\r\n`);
    const slowClosed = new Promise<void>((resolve) => slow.once('close', () => resolve()));
    slow.on('error', () => undefined); // a reset is how a dropped connection may end
    await new Promise((r) => setTimeout(r, 300));
    // Loopback sockets here may hold ~36 MB in kernel buffers (tcp_rmem max 32 MB + tcp_wmem 4 MB)
    // before our own buffer grows at all: send 3,000 events of ~24 KiB (72 MB).
    const big = 'x'.repeat(24 * 1024);
    const t = await create();
    await other.waitFor(() => other.events.some((e) => e.data.data.ticket.id === t.id));
    for (let i = 0; i < 3_000; i++) {
      const e = envelope('ticket.updated', {
        ticket: { id: t.id, assigned_group_id: null, assigned_user_id: null, created_by_id: admin.user.id },
        changes: { filler: { old: null, new: big } },
        actor: { type: 'system' },
      });
      await insertEvent(h.db, { id: e.id, type: e.type, ticketId: t.id, payload: e });
    }
    // Now read what the kernel holds: a dropped connection then ends; a live one would stream
    // heartbeats forever and time this test out.
    await new Promise((r) => setTimeout(r, 1_000));
    slow.on('data', () => undefined);
    slow.resume();
    await slowClosed;
    // The healthy subscriber gets the next creation within 10 s (the wait fails otherwise) and stays open.
    const after = await create({ title: 'after the flood' });
    await other.waitFor(() => other.events.some((e) => e.data.data.ticket.id === after.id), 10_000);
    expect(other.ended).toBe(false);
  }, 180_000);
});
