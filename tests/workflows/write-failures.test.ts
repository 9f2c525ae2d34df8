/**
 * Defence in depth behind the edge validation: a change whose write the database refuses for good
 * (NUL, a lone surrogate, a version gap) is answered with an error, leaves the ticket as it was,
 * and never stalls the changes behind it; a create with such a title ends without a row. The edge
 * is bypassed by driving the workflow with the Temporal client. The failure is visible: a JSON log
 * line with ticket and request id, and `servicemeow_ticket_write_failures_total` on the worker's metrics.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { WithStartWorkflowOperation, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/dev/ports.js';
import { AuditLog, Ticket } from '../../src/models/index.js';
import { installTemporalRuntime } from '../../src/temporal/runtime.js';
import {
  addNoteUpdate,
  changeUpdate,
  createdUpdate,
  stateQuery,
  ticketWorkflowId,
  type Actor,
  type TicketCreateInput,
} from '../../workflows/definitions.js';
import type { ticketWorkflow } from '../../workflows/ticket.workflow.js';
import { eventually } from '../helpers/eventually.js';
import { ensureSlaPolicies, signedIn } from '../helpers/factories.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';
import { ticketCreateInput } from '../helpers/snapshots.js';

// The worker's runtime (installed before the harness's) logs to these lines and serves metrics.
const logLines: Record<string, any>[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
    done();
  },
});
let metricsUrl: string;
let h: Harness;
let token: string;
let actor: Actor;

beforeAll(async () => {
  const port = await freePort();
  metricsUrl = `http://127.0.0.1:${port}/metrics`;
  installTemporalRuntime(pino({ level: 'info' }, sink), { metricsAddress: `127.0.0.1:${port}` });
  h = await startHarness();
  await ensureSlaPolicies(h.db);
  const me = await signedIn(h, 'admin');
  token = me.token;
  actor = { type: 'user', userId: me.user.id };
});
afterAll(() => h.stop());

async function newTicket(title: string) {
  const res = await call(h, 'POST', '/api/v1/tickets', { token, body: { title, priority: 'low' } });
  expect(res.status).toBe(201);
  return res.body as { id: string; version: number };
}

/** The failure an Update was answered with (fails the test if it succeeded). */
async function refusal(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  const cause = (err as WorkflowUpdateFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

/** Row, workflow and audit trail agree: every version the row reached has its audit entries, none beyond. */
async function consistent(id: string): Promise<number> {
  const row = await Ticket.query(h.db).findById(id).throwIfNotFound();
  const state = await h.temporal.client.workflow.getHandle(ticketWorkflowId(id)).query(stateQuery);
  expect(state!.version).toBe(row.version);
  const versions = new Set((await AuditLog.query(h.db).where({ ticketId: id })).map((a) => Number(a.ticketVersion)));
  expect([...versions].sort((a, b) => a - b)).toEqual(Array.from({ length: row.version }, (_, i) => i + 1));
  return row.version;
}

const scrape = async () => (await fetch(metricsUrl)).text();
const failuresOf = (text: string, kind: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith('servicemeow_ticket_write_failures_total') && l.includes(`kind="${kind}"`))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);

describe('a write the database refuses for good', () => {
  it('answers the Update with an error, keeps the ticket as it was, and the next change is applied', async () => {
    const t = await newTicket('Wedge me not');
    const handle = h.temporal.client.workflow.getHandle(ticketWorkflowId(t.id));
    const requestId = `req-${randomUUID()}`;
    const failure = await refusal(
      handle.executeUpdate(changeUpdate, {
        args: [
          {
            requestId: `change-${randomUUID()}`,
            apiRequestId: requestId,
            actor,
            expectedVersion: null,
            changes: { description: 'a\u0000b', priority: 'high' },
          },
        ],
      }),
    );
    expect(failure.type).toBe('UnwritableChange');
    expect(failure.details?.[0]).toEqual({ kind: 'invalid_data', sqlstate: '22021' });

    // nothing half-written: the workflow and the row are still at version 1
    const state = await handle.query(stateQuery);
    expect(state).toMatchObject({ version: 1, description: '', priority: 'low' });
    expect(await consistent(t.id)).toBe(1);

    // the ticket keeps taking changes, through the API
    const patched = await call(h, 'PATCH', `/api/v1/tickets/${t.id}`, { token, body: { description: 'fine', priority: 'high' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ version: 2, description: 'fine', priority: 'high' });
    expect(await consistent(t.id)).toBe(2);

    // visible: one JSON log line naming the ticket and the request, and the counter
    const line = await eventually(async () => logLines.find((l) => l.temporal?.ticketId === t.id && l.temporal?.requestId === requestId));
    expect(line).toMatchObject({ level: 50, temporal: { kind: 'invalid_data', sqlstate: '22021', version: 2 } });
    expect(failuresOf(await scrape(), 'invalid_data')).toBeGreaterThanOrEqual(1);
  });

  it('a lone surrogate in a note (unstorable in the event jsonb) is refused the same way; later notes land', async () => {
    const t = await newTicket('Surrogates');
    const handle = h.temporal.client.workflow.getHandle(ticketWorkflowId(t.id));
    const failure = await refusal(
      handle.executeUpdate(addNoteUpdate, {
        args: [{ requestId: `note-${randomUUID()}`, actor, noteId: randomUUID(), content: 'a\ud800b', isInternal: false }],
      }),
    );
    expect(failure.type).toBe('UnwritableChange');
    expect(failure.details?.[0]).toMatchObject({ kind: 'invalid_data' });
    expect(await consistent(t.id)).toBe(1);

    const note = await call(h, 'POST', `/api/v1/tickets/${t.id}/notes`, { token, body: { content: 'a proper note' } });
    expect(note.status).toBe(201);
    expect(await consistent(t.id)).toBe(2);
  });

  it('many changes queued behind a refused one are all applied, each once', async () => {
    const t = await newTicket('Queue');
    const handle = h.temporal.client.workflow.getHandle(ticketWorkflowId(t.id));
    const bad = refusal(
      handle.executeUpdate(changeUpdate, {
        args: [{ requestId: `change-${randomUUID()}`, actor, expectedVersion: null, changes: { title: 'x\u0000y' } }],
      }),
    );
    const good = Array.from({ length: 6 }, (_, i) => call(h, 'PATCH', `/api/v1/tickets/${t.id}`, { token, body: { tags: [`t${i}`] } }));
    expect((await bad).type).toBe('UnwritableChange');
    expect((await Promise.all(good)).map((r) => r.status)).toEqual(Array(6).fill(200));
    expect(await consistent(t.id)).toBe(7);
    expect((await Ticket.query(h.db).findById(t.id))!.title).toBe('Queue');
  }, 60_000);

  it('a version gap is a 422 through the API, and the ticket takes changes again once the row is repaired', async () => {
    const t = await newTicket('Gap');
    expect((await call(h, 'PATCH', `/api/v1/tickets/${t.id}`, { token, body: { tags: ['v2'] } })).status).toBe(200);
    await Ticket.query(h.db)
      .patch({ version: 1 } as Partial<Ticket>)
      .where({ id: t.id }); // version 2's write went missing
    const res = await call(h, 'PATCH', `/api/v1/tickets/${t.id}`, { token, body: { title: 'after the gap' } });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'unprocessable_change', details: { kind: 'version_gap' } });
    expect(await h.temporal.client.workflow.getHandle(ticketWorkflowId(t.id)).query(stateQuery)).toMatchObject({
      version: 2,
      title: 'Gap',
    });
    expect(failuresOf(await scrape(), 'version_gap')).toBeGreaterThanOrEqual(1);

    await Ticket.query(h.db)
      .patch({ version: 2 } as Partial<Ticket>)
      .where({ id: t.id });
    const again = await call(h, 'PATCH', `/api/v1/tickets/${t.id}`, { token, body: { title: 'after the gap' } });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ version: 3, title: 'after the gap' });
  });

  it('a create whose title the database refuses answers the waiting caller with an error; no row, no retrying activity', async () => {
    const id = randomUUID();
    const create: TicketCreateInput = ticketCreateInput(actor, { id, title: 'x\u0000y', requestId: `req-${id}` });
    const start = new WithStartWorkflowOperation<typeof ticketWorkflow>('ticketWorkflow', {
      workflowId: ticketWorkflowId(id),
      taskQueue: h.config.temporal.taskQueue,
      workflowIdConflictPolicy: 'USE_EXISTING',
      args: [{ create }],
    });
    const failure = await refusal(h.temporal.client.workflow.executeUpdateWithStart(createdUpdate, { startWorkflowOperation: start }));
    expect(failure.type).toBe('UnwritableChange');
    expect(failure.details?.[0]).toEqual({ kind: 'invalid_data', sqlstate: '22021' });
    expect(await Ticket.query(h.db).findById(id)).toBeUndefined();
    const described = await h.temporal.client.workflow.getHandle(ticketWorkflowId(id)).describe();
    expect(described.raw.pendingActivities ?? []).toHaveLength(0);
    expect(await h.temporal.client.workflow.getHandle(ticketWorkflowId(id)).query(stateQuery)).toBeNull();
    expect(logLines.some((l) => l.temporal?.ticketId === id && l.temporal?.requestId === `req-${id}`)).toBe(true);
  });
});
