/**
 * The live stream loses nothing: every committed event reaches every subscriber allowed to see it
 * exactly once, live and across a Last-Event-ID resume, whatever order transactions commit in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { envelope } from '../../src/events/envelope.js';
import { insertEvent, readSettled } from '../../src/events/store.js';
import { Event, type Group, type User } from '../../src/models/index.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';
import { createGroup, createUser, ensureSlaPolicies, login, signedIn } from '../helpers/factories.js';
import { eventually } from '../helpers/eventually.js';
import { SseClient, type SseFrame } from '../helpers/sse.js';

let h: Harness;
let admin: Awaited<ReturnType<typeof signedIn>>;
let agent: User;
let agentToken: string;
let group: Group;
const open: SseClient[] = [];

beforeAll(async () => {
  h = await startHarness({ scratch: 'event_stream_order', env: { RATE_LIMIT_PER_MINUTE: '100000' } });
  await ensureSlaPolicies(h.db);
  admin = await signedIn(h, 'admin');
  agent = await createUser(h.db);
  group = await createGroup(h.db, [agent]);
  agentToken = await login(h, agent.username);
}, 60_000);
afterAll(async () => {
  open.forEach((c) => c.close());
  await h?.stop();
});

async function subscribe(token: string, query = '', headers: Record<string, string> = {}) {
  const client = await SseClient.open(`${h.baseUrl}/api/v1/events/stream${query}`, { authorization: `Bearer ${token}`, ...headers });
  expect(client.status).toBe(200);
  open.push(client);
  return client;
}

/** An event visible to admin and agent alike (it names a ticket of the agent's group). */
async function sentinel(db: Knex | Knex.Transaction = h.db, label = 'sentinel'): Promise<Event> {
  const e = envelope('ticket.updated', {
    ticket: { id: null, title: label, assigned_group_id: group.id, assigned_user_id: null, created_by_id: admin.user.id },
    changes: {},
    actor: { type: 'system' },
  });
  return insertEvent(db, { id: e.id, type: e.type, ticketId: null, payload: e });
}

const ids = (frames: SseFrame[]) => frames.filter((f) => f.id).map((f) => f.id!);

/** The committed events strictly between two events, in stream order (the product's own rule). */
async function eventsBetween(from: Event, to: Event): Promise<Event[]> {
  return Event.query(h.db)
    .whereRaw('(txid, seq) > (?::xid8, ?)', [from.txid, from.seq])
    .whereRaw('(txid, seq) < (?::xid8, ?)', [to.txid, to.seq])
    .orderBy([{ column: 'txid' }, { column: 'seq' }]);
}

/** What the agent may see: tickets of their group, assigned to them or created by them. */
function agentMaySee(e: Event): boolean {
  const t = (
    e.payload.data as { ticket?: { assigned_group_id: string | null; assigned_user_id: string | null; created_by_id: string | null } }
  ).ticket;
  return !!t && (t.assigned_group_id === group.id || t.assigned_user_id === agent.id || t.created_by_id === agent.id);
}

/** Everything after `start` up to `end` on this stream, end excluded; fails on any repeat. */
function receivedBetween(frames: SseFrame[], start: string, end: string): string[] {
  const all = ids(frames);
  expect(new Set(all).size).toBe(all.length); // no event twice
  const from = all.indexOf(start);
  const to = all.indexOf(end);
  expect(from).toBeGreaterThanOrEqual(0);
  expect(to).toBeGreaterThan(from);
  return all.slice(from + 1, to);
}

describe('stream order under out-of-order commits', () => {
  it('never delivers past an event that may still commit, then delivers both once, in order', async () => {
    const stream = await subscribe(admin.token);
    const start = await sentinel();
    await stream.waitFor(() => ids(stream.frames).includes(start.id));

    // Two transactions: the first takes the lower seq, the second commits first.
    const first = await h.db.transaction();
    const second = await h.db.transaction();
    const early = await sentinel(first, 'early');
    const late = await sentinel(second, 'late');
    expect(late.seq).toBeGreaterThan(early.seq);
    await second.commit();

    // The stream may not move past `early` while its transaction is open: `late` waits.
    const probe = await sentinel(h.db, 'probe'); // committed after `late`, behind `early` too
    const settled = await readSettled(h.db, { txid: BigInt(start.txid), seq: start.seq }, 100);
    expect(settled.held).toBe(true);
    expect(settled.events.map((e) => e.id)).not.toContain(late.id);
    await new Promise((r) => setTimeout(r, 300)); // a broken hub would have sent `late` by now
    expect(ids(stream.frames)).not.toContain(late.id);

    await first.commit();
    await stream.waitFor(() => ids(stream.frames).includes(probe.id));
    const got = receivedBetween(stream.frames, start.id, probe.id).concat(probe.id);
    expect(got).toEqual([early.id, late.id, probe.id]);

    // A resume from `start` reads the same, once.
    const resumed = await subscribe(admin.token, '', { 'last-event-id': start.id });
    await resumed.waitFor(() => ids(resumed.frames).includes(probe.id));
    expect(ids(resumed.frames)).toEqual([early.id, late.id, probe.id]);
  });

  it('delivers what committed behind a transaction that rolls back (no notification ever comes)', async () => {
    const stream = await subscribe(admin.token);
    const start = await sentinel();
    await stream.waitFor(() => ids(stream.frames).includes(start.id));
    const doomed = await h.db.transaction();
    const lost = await sentinel(doomed, 'rolled back');
    const kept = await sentinel(h.db, 'kept');
    await new Promise((r) => setTimeout(r, 200));
    expect(ids(stream.frames)).not.toContain(kept.id);
    await doomed.rollback();
    await stream.waitFor(() => ids(stream.frames).includes(kept.id), 10_000);
    expect(receivedBetween(stream.frames, start.id, kept.id)).toEqual([]);
    expect(ids(stream.frames)).not.toContain(lost.id);
  });
});

describe('stream completeness under concurrent writers', () => {
  const tickets: { id: string; mine: boolean }[] = [];

  /** 60 concurrent writers: 20 creates, 20 patches, 20 notes (half on the agent's group's tickets). */
  async function burst(round: number): Promise<void> {
    const requests: Promise<{ status: number }>[] = [];
    for (let i = 0; i < 20; i++) {
      const body = { title: `burst ${round}.${i}`, ...(i % 2 ? { assigned_group_id: group.id } : {}) };
      requests.push(call(h, 'POST', '/api/v1/tickets', { token: admin.token, body }));
      const t = tickets[i]!;
      requests.push(call(h, 'PATCH', `/api/v1/tickets/${t.id}`, { token: admin.token, body: { title: `patched ${round}.${i}` } }));
      requests.push(call(h, 'POST', `/api/v1/tickets/${t.id}/notes`, { token: admin.token, body: { content: `note ${round}.${i}` } }));
    }
    const answers = await Promise.all(requests);
    for (const a of answers) expect([200, 201, 202]).toContain(a.status);
    // 202s land later: wait until every change is in the table (20 created, 20 updated, 20 notes).
    await eventually(async () => {
      const rows = await Event.query(h.db)
        .whereRaw("payload->'data'->'ticket'->>'title' LIKE ?", [`% ${round}.%`])
        .orWhereRaw("payload->'data'->'note'->>'content' LIKE ?", [`note ${round}.%`])
        .select('type');
      const count = (type: string) => rows.filter((r) => r.type === type).length;
      return count('ticket.created') >= 20 && count('ticket.updated') >= 20 && count('ticket.note_added') >= 20;
    }, 120_000);
  }

  it('every committed event reaches each subscriber allowed to see it exactly once, live and after a resume', async () => {
    for (let i = 0; i < 20; i++) {
      const body = { title: `base ${i}`, ...(i % 2 ? { assigned_group_id: group.id } : {}) };
      const created = await call(h, 'POST', '/api/v1/tickets', { token: admin.token, body });
      expect(created.status).toBe(201);
      tickets.push({ id: created.body.id, mine: i % 2 === 1 });
    }
    const adminStream = await subscribe(admin.token);
    const agentStream = await subscribe(agentToken);
    const start = await sentinel();
    await adminStream.waitFor(() => ids(adminStream.frames).includes(start.id));
    await agentStream.waitFor(() => ids(agentStream.frames).includes(start.id));

    await burst(1);
    const end = await sentinel(); // commits after every burst event: sorts after all of them
    await adminStream.waitFor(() => ids(adminStream.frames).includes(end.id), 60_000);
    await agentStream.waitFor(() => ids(agentStream.frames).includes(end.id), 60_000);

    const committed = await eventsBetween(start, end);
    expect(committed.length).toBeGreaterThanOrEqual(60);
    expect(receivedBetween(adminStream.frames, start.id, end.id).sort()).toEqual(committed.map((e) => e.id).sort());
    const forAgent = committed.filter(agentMaySee).map((e) => e.id);
    expect(forAgent.length).toBeGreaterThanOrEqual(30); // half the burst is the agent's group's
    expect(forAgent.length).toBeLessThan(committed.length);
    expect(receivedBetween(agentStream.frames, start.id, end.id).sort()).toEqual(forAgent.sort());

    // Round two: a subscriber leaves mid-burst and resumes with Last-Event-ID.
    const leaving = await subscribe(admin.token);
    const start2 = await sentinel();
    await leaving.waitFor(() => ids(leaving.frames).includes(start2.id));
    const second = burst(2);
    await leaving.waitFor(() => ids(leaving.frames).length >= 15, 60_000).catch(() => undefined);
    leaving.close();
    await new Promise((r) => setTimeout(r, 50));
    const before = ids(leaving.frames);
    await second;
    const end2 = await sentinel();
    const resumed = await subscribe(admin.token, '', { 'last-event-id': before.at(-1)! });
    await resumed.waitFor(() => ids(resumed.frames).includes(end2.id), 60_000);
    const union = [...before, ...ids(resumed.frames)];
    expect(new Set(union).size).toBe(union.length); // nothing twice across the resume
    const committed2 = await eventsBetween(start2, end2);
    expect(committed2.length).toBeGreaterThanOrEqual(60);
    expect(
      receivedBetween(
        union.map((id) => ({ id })),
        start2.id,
        end2.id,
      ).sort(),
    ).toEqual(committed2.map((e) => e.id).sort());
  }, 300_000);
});
