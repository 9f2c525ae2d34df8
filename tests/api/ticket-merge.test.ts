/**
 * Merging tickets over REST on the real dev server (workflows/mutations/merge.ts): the source
 * becomes merged (terminal, its workflow ends, its SLA clocks stop — no at-risk or breach fires
 * afterwards, proved against a twin ticket that does breach), the target lists the source's notes and
 * files with `from_ticket`, both audit logs and the events say so (one `ticket.merged`), and every
 * refusal is a clear 4xx with nothing applied. Short SLA policies: a database of its own.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, Event, Ticket } from '../../src/models/index.js';
import { mergeUpdate, stateQuery, ticketWorkflowId } from '../../workflows/definitions.js';
import { eventually } from '../helpers/eventually.js';
import { createUser, login } from '../helpers/factories.js';
import { call, type Harness } from '../helpers/harness.js';
import { startSlaHarness } from '../helpers/sla-harness.js';

let h: Harness;
let token: string;

const POLICIES = {
  critical: { assign_target_seconds: 3, resolve_target_seconds: 4, at_risk_percent: 50 },
  high: { assign_target_seconds: 600, resolve_target_seconds: 600, at_risk_percent: 80 },
  medium: { assign_target_seconds: 600, resolve_target_seconds: 600, at_risk_percent: 80 },
  low: { assign_target_seconds: 600, resolve_target_seconds: 600, at_risk_percent: 80 },
} as const;

beforeAll(async () => {
  ({ h, token } = await startSlaHarness('merge', POLICIES));
});
afterAll(async () => {
  await h?.stop();
});

type TicketJson = { id: string; ticket_number: string; version: number; status: string; [k: string]: unknown };

async function create(body: Record<string, unknown> = {}, as = token): Promise<TicketJson> {
  const res = await call(h, 'POST', '/api/v1/tickets', { token: as, body: { title: 'Merge me', priority: 'low', ...body } });
  expect(res.status).toBe(201);
  return res.body;
}
const merge = (source: string, body: Record<string, unknown>, opts: { as?: string; headers?: Record<string, string> } = {}) =>
  call(h, 'POST', `/api/v1/tickets/${source}/merge`, { token: opts.as ?? token, body, headers: opts.headers ?? {} });
const eventsOf = (ticketId: string) => Event.query(h.db).where({ ticketId }).orderBy('seq');

async function uploadText(ticket: string, name: string, text: string): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob([text], { type: 'text/plain' }), name);
  const res = await fetch(`${h.baseUrl}/api/v1/tickets/${ticket}/attachments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }[])[0]!.id;
}

describe('POST /tickets/{id}/merge', () => {
  it('merges: the source is merged and closed, the target lists its notes and files, both audits and the events say so', async () => {
    const source = await create({ title: 'Printer down (dup)' });
    const target = await create({ title: 'Printer down' });
    const note = await call(h, 'POST', `/api/v1/tickets/${source.id}/notes`, { token, body: { content: 'seen on floor 2' } });
    expect(note.status).toBe(201);
    const fileId = await uploadText(source.id, 'log.txt', 'paper jam\n');
    await call(h, 'POST', `/api/v1/tickets/${target.id}/notes`, { token, body: { content: 'own note' } });

    const res = await merge(source.ticket_number, { target: target.ticket_number, note: 'duplicate of the printer ticket' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: source.id,
      status: 'merged',
      merged_into: { id: target.id, ticket_number: target.ticket_number, merged_at: expect.any(String) },
      merged_from: [],
    });
    expect(res.headers.get('etag')).toBe(`"${res.body.version}"`);

    const t = await call(h, 'GET', `/api/v1/tickets/${target.id}`, { token });
    expect(t.body).toMatchObject({
      status: 'open',
      merged_into: null,
      merged_from: [{ id: source.id, ticket_number: source.ticket_number }],
    });

    // the target's notes and files include the source's, each marked with where it comes from
    const notes = await call(h, 'GET', `/api/v1/tickets/${target.id}/notes`, { token });
    expect(notes.status).toBe(200);
    const from = (n: { from_ticket: { id: string } | null }) => n.from_ticket?.id ?? 'own';
    expect(notes.body.items.map((n: { content: string; from_ticket: unknown }) => [n.content, n.from_ticket])).toEqual(
      expect.arrayContaining([
        ['seen on floor 2', { id: source.id, ticket_number: source.ticket_number }],
        ['duplicate of the printer ticket', { id: source.id, ticket_number: source.ticket_number }],
        ['own note', null],
      ]),
    );
    expect(notes.body.items.filter((n: { from_ticket: { id: string } | null }) => from(n) === source.id)).toHaveLength(2);
    const files = await call(h, 'GET', `/api/v1/tickets/${target.id}/attachments`, { token });
    expect(files.body).toEqual([
      expect.objectContaining({ id: fileId, from_ticket: { id: source.id, ticket_number: source.ticket_number } }),
    ]);
    const download = await fetch(`${h.baseUrl}/api/v1/attachments/${fileId}/download`, { headers: { authorization: `Bearer ${token}` } });
    expect(download.status).toBe(200);
    expect(await download.text()).toBe('paper jam\n');

    // audit: the source's status and link, the target's merged_from, in each ticket's own version
    const srcAudit = await AuditLog.query(h.db).where({ ticketId: source.id }).orderBy('created_at');
    expect(srcAudit.map((a) => [a.action, a.fieldChanged])).toEqual(
      expect.arrayContaining([
        ['updated', 'status'],
        ['merged_into', 'merged_into'],
        ['note_added', null],
      ]),
    );
    const tgtAudit = await AuditLog.query(h.db).where({ ticketId: target.id, action: 'merged_from' });
    expect(tgtAudit).toHaveLength(1);
    expect(tgtAudit[0]!.newValue).toEqual({ id: source.id, ticket_number: source.ticket_number });

    // events: exactly one ticket.merged (the source's), naming both; the target's ticket.updated
    const merged = (await eventsOf(source.id)).filter((e) => e.type === 'ticket.merged');
    expect(merged).toHaveLength(1);
    expect(merged[0]!.payload.data).toMatchObject({
      ticket: { id: source.id, status: 'merged' },
      merge: { source: { id: source.id }, target: { id: target.id, ticket_number: target.ticket_number } },
    });
    const updated = (await eventsOf(target.id)).filter(
      (e) => e.type === 'ticket.updated' && 'merged_from' in (e.payload.data.changes as object),
    );
    expect(updated).toHaveLength(1);

    // the source's workflow ended; the source takes no more changes
    const desc = await h.temporal.client.workflow.getHandle(ticketWorkflowId(source.id)).describe();
    expect(desc.status.name).toBe('COMPLETED');
    const patch = await call(h, 'PATCH', `/api/v1/tickets/${source.id}`, { token, body: { title: 'x' } });
    expect(patch.status).toBe(409);
    expect(patch.body.error).toMatchObject({ code: 'ticket_merged', details: { merged_into: { id: target.id } } });
    const addNote = await call(h, 'POST', `/api/v1/tickets/${source.id}/notes`, { token, body: { content: 'late' } });
    expect(addNote.status).toBe(409);
    const listed = await call(h, 'GET', `/api/v1/tickets?status=merged`, { token });
    expect(listed.body.items.map((x: TicketJson) => x.id)).toContain(source.id);
  });

  it('stops the source’s SLA clocks: no at-risk or breach fires after the merge (its twin breaches)', async () => {
    const target = await create();
    // 3 s assign / 4 s resolve, at risk at half: both would fire within 4 s
    const source = await create({ priority: 'critical', title: 'merged before its deadlines' });
    const twin = await create({ priority: 'critical', title: 'the same, not merged' });
    const res = await merge(source.id, { target: target.id });
    expect(res.status).toBe(200);
    expect(res.body.sla.resolve).toMatchObject({ state: 'paused', due_at: null });
    await eventually(
      async () =>
        (await eventsOf(twin.id)).some(
          (e) => e.type === 'ticket.sla_breached' && (e.payload.data.sla as { metric: string }).metric === 'resolve',
        ),
      30_000,
    );
    const fired = (await eventsOf(source.id)).filter((e) => e.type.startsWith('ticket.sla_'));
    // a signal may only have been due before the merge (at-risk after 1.5 s): none after it
    const mergedAt = Date.parse(res.body.merged_into.merged_at);
    expect(fired.filter((e) => e.createdAt.getTime() > mergedAt)).toEqual([]);
    const row = await Ticket.query(h.db).findById(source.id);
    expect(row!.slaBreached).toBe(false);
    expect(row!.slaResolveDueAt).toBeNull();
  });

  it('refuses with a clear 4xx and applies nothing: itself, unknown, invisible, deleted or merged targets, a merged source, a stale If-Match', async () => {
    const a = await create();
    const b = await create();
    const self = await merge(a.id, { target: a.ticket_number });
    expect(self.status).toBe(422);
    expect(self.body.error.details).toEqual([expect.objectContaining({ path: 'target' })]);

    const unknown = await merge(a.id, { target: 'ASM-99999999' });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.details).toEqual([expect.objectContaining({ path: 'target' })]);
    expect((await merge(a.id, { target: 'not a ticket' })).status).toBe(422);
    expect((await merge(a.id, {})).status).toBe(422);

    // an agent who may see the source but not the target: as if it did not exist
    const agent = await createUser(h.db, { role: 'agent' });
    const agentToken = await login(h, agent.username);
    const own = await create({}, agentToken);
    const invisible = await merge(own.id, { target: b.id }, { as: agentToken });
    expect(invisible.status).toBe(422);
    expect(invisible.body.error.message).toMatch(/not visible to you/);

    const gone = await create();
    expect((await call(h, 'DELETE', `/api/v1/tickets/${gone.id}`, { token })).status).toBe(204);
    expect((await merge(a.id, { target: gone.id })).status).toBe(422);

    const c = await create();
    expect((await merge(b.id, { target: c.id })).status).toBe(200);
    const intoMerged = await merge(a.id, { target: b.id });
    expect(intoMerged.status).toBe(409);
    expect(intoMerged.body.error).toMatchObject({ code: 'merge_refused', details: { reason: 'target_merged', merged_into: { id: c.id } } });
    const again = await merge(b.id, { target: a.id });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('ticket_merged');

    const stale = await merge(a.id, { target: c.id }, { headers: { 'if-match': '"99"' } });
    expect(stale.status).toBe(412);
    const toMerged = await call(h, 'PATCH', `/api/v1/tickets/${a.id}`, { token, body: { status: 'merged' } });
    expect(toMerged.status).toBe(409);
    expect(toMerged.body.error).toMatchObject({ code: 'invalid_transition', message: expect.stringMatching(/merge/) });

    // nothing was applied to any of them
    expect((await Ticket.query(h.db).findById(a.id))!).toMatchObject({ status: 'open', version: 1, mergedInto: null });
    expect((await Ticket.query(h.db).findById(c.id))!.mergedFrom.map((l) => l.id)).toEqual([b.id]);
  });

  it('the workflows refuse what the API could not see coming: a target merged meanwhile, two tickets merging into each other', async () => {
    const a = await create();
    const b = await create();
    const c = await create();
    expect((await merge(b.id, { target: c.id })).status).toBe(200);
    // straight to the source's workflow, as if the API had read b before its merge
    const handle = h.temporal.client.workflow.getHandle(ticketWorkflowId(a.id));
    const actor = { type: 'system' as const, userId: null };
    const err = await handle
      .executeUpdate(mergeUpdate, {
        args: [{ requestId: 'merge-race-1', actor, expectedVersion: null, target: { id: b.id, ticketNumber: b.ticket_number } }],
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((err as WorkflowUpdateFailedError).cause).toMatchObject({ type: 'merge_refused' });
    expect(await handle.query(stateQuery)).toMatchObject({ status: 'open', version: 1 });

    // x into y and y into x at once: never both (and never waiting on each other for ever)
    const x = await create();
    const y = await create();
    const [xy, yx] = await Promise.all([merge(x.id, { target: y.id }), merge(y.id, { target: x.id })]);
    expect([xy.status, yx.status]).not.toEqual([200, 200]);
    for (const r of [xy, yx]) expect([200, 409]).toContain(r.status);
    const rows = await Ticket.query(h.db).findByIds([x.id, y.id]);
    expect(rows.filter((r) => r.status === 'merged').length).toBe([xy, yx].filter((r) => r.status === 200).length);
  });

  it('ticket.merged is in the event vocabulary: webhook subscriptions take it, the OpenAPI webhooks section declares it', async () => {
    const hook = await call(h, 'POST', '/api/v1/webhooks', {
      token,
      body: { url: 'https://93.184.216.34/hooks/merges', event_types: ['ticket.merged'] },
    });
    expect(hook.status).toBe(201);
    expect(hook.body.event_types).toEqual(['ticket.merged']);
    const doc = (await call(h, 'GET', '/api/v1/openapi.json')).body;
    expect(doc.webhooks['ticket.merged'].post.operationId).toBe('onTicketMerged');
    const path = Object.keys(doc.paths).find((p) => p.endsWith('/tickets/{id}/merge'))!;
    expect(doc.paths[path].post.operationId).toBe('mergeTicket');
  });

  it('an Idempotency-Key replays the first answer; the merge is applied once', async () => {
    const a = await create();
    const b = await create();
    const headers = { 'idempotency-key': `merge-${a.id}` };
    const first = await merge(a.id, { target: b.id }, { headers });
    expect(first.status).toBe(200);
    const second = await merge(a.id, { target: b.id }, { headers });
    expect(second.status).toBe(200);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body).toEqual(first.body);
    expect((await eventsOf(a.id)).filter((e) => e.type === 'ticket.merged')).toHaveLength(1);
    expect((await Ticket.query(h.db).findById(b.id))!.mergedFrom).toHaveLength(1);
    // the same merge again, without the key: already done, answered 200, nothing applied
    const repeat = await merge(a.id, { target: b.ticket_number });
    expect(repeat.status).toBe(200);
    expect(repeat.body.version).toBe(first.body.version);
    expect((await eventsOf(a.id)).filter((e) => e.type === 'ticket.merged')).toHaveLength(1);
  });
});
