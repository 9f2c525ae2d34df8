/**
 * Replay: the current workflow code must reproduce every recorded history exactly, so a deploy can
 * never break running tickets. Histories in tests/workflows/histories/ were recorded from earlier
 * code and are replayed on every run; a fresh history of the full lifecycle is recorded and
 * replayed too. RECORD_HISTORIES=1 saves the fresh one as a new fixture (binary protobuf), named
 * `*-v2-*` when it is a ticketWorkflowV2's (every `POST /tickets` since that type).
 */
import { randomUUID } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import proto from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { changeUpdate, createdUpdate, ticketWorkflowId, type TicketCreateInput } from '../../workflows/definitions.js';
import type { ticketWorkflowV2 } from '../../workflows/ticket.workflow.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';
import { ensureSlaPolicies, signedIn } from '../helpers/factories.js';
import { ticketCreateInput } from '../helpers/snapshots.js';

const FIXTURES = path.join(import.meta.dirname, 'histories');
const { History } = proto.temporal.api.history.v1;
/** A fixture's name: `<name>-v2-<tag>` for a ticketWorkflowV2 history, `<name>-<tag>` for another. */
const fixtureName = (name: string, history: proto.temporal.api.history.v1.IHistory) => {
  const v2 = history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name === 'ticketWorkflowV2';
  return `${name}-${v2 ? 'v2-' : ''}${randomUUID().slice(0, 8)}.history.pb`;
};
let h: Harness;
let bundle: { code: string };
beforeAll(async () => {
  h = await startHarness();
  await ensureSlaPolicies(h.db);
  bundle = { code: await readFile(inject('workflowBundlePath'), 'utf8') };
});
afterAll(() => h.stop());

describe('replay', () => {
  it('replays a fresh full-lifecycle history deterministically', async () => {
    const { token, user } = await signedIn(h, 'admin');
    const t = (await call(h, 'POST', '/api/v1/tickets', { token, body: { title: 'Replay me', priority: 'high' } })).body;
    for (const body of [
      { status: 'under_investigation' },
      { status: 'paused' },
      { priority: 'critical', tags: ['x'] },
      { status: 'open' },
      { status: 'resolved' },
      { status: 'open' },
    ]) {
      expect((await call(h, 'PATCH', `/api/v1/tickets/${t.id}`, { token, body })).status).toBe(200);
    }
    // a change whose write the database refuses for good ('permanent-write-failures')
    const refused = h.temporal.client.workflow.getHandle(ticketWorkflowId(t.id)).executeUpdate(changeUpdate, {
      args: [
        {
          requestId: `change-${randomUUID()}`,
          actor: { type: 'user', userId: user.id },
          expectedVersion: null,
          changes: { description: 'a\u0000b' },
        },
      ],
    });
    await expect(refused).rejects.toThrow('Workflow Update failed');
    const note = await call(h, 'POST', `/api/v1/tickets/${t.id}/notes`, { token, body: { content: 'hello' } });
    await call(h, 'PATCH', `/api/v1/tickets/${t.id}/notes/${note.body.id}`, { token, body: { content: 'hello again' } });
    expect(
      (await call(h, 'PATCH', `/api/v1/tickets/${t.id}`, { token, body: { status: 'paused' }, headers: { 'if-match': '"1"' } })).status,
    ).toBe(412);
    // the Web UI's current details name the ticket by number, state, priority and title
    const meta = await h.temporal.client.workflow
      .getHandle(ticketWorkflowId(t.id))
      .query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(meta.currentDetails).toBe(`**${t.ticket_number}** · open · critical\n\nReplay me`);
    expect((await call(h, 'DELETE', `/api/v1/tickets/${t.id}`, { token })).status).toBe(204);
    const handle = h.temporal.client.workflow.getHandle(ticketWorkflowId(t.id));
    await handle.result();
    const history = await handle.fetchHistory();
    await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history, ticketWorkflowId(t.id))).resolves.toBeUndefined();
    // the Web UI shows who the workflow is and what its SLA timer waits for
    const text = (p: { data?: Uint8Array | null } | null | undefined) =>
      p?.data ? JSON.parse(Buffer.from(p.data).toString('utf8')) : undefined;
    const events = history.events ?? [];
    expect(text(events[0]?.userMetadata?.summary)).toBe('high · Replay me');
    expect(text(events[0]?.userMetadata?.details)).toContain('title: Replay me');
    const timers = events.filter((e) => e.timerStartedEventAttributes);
    expect(timers.length).toBeGreaterThan(0);
    for (const e of timers) expect(text(e.userMetadata?.summary)).toMatch(/^SLA: next at-risk\/breach signal due \d{4}-/);
    if (process.env.RECORD_HISTORIES) {
      await writeFile(path.join(FIXTURES, fixtureName('lifecycle', history)), History.encode(history).finish());
    }
  });

  // V1: the refused create activity task; V2: the local activity of the first workflow task
  it.each(['ticketWorkflow', 'ticketWorkflowV2'])(
    'replays a fresh %s history of a create whose write was refused for good',
    async (type) => {
      const { user } = await signedIn(h, 'admin');
      const id = randomUUID();
      const create: TicketCreateInput = ticketCreateInput(
        { type: 'user', userId: user.id },
        { id, title: 'x\u0000y', slaTerms: null, requestId: `req-${id}` },
      );
      const start = new WithStartWorkflowOperation<typeof ticketWorkflowV2>(type, {
        workflowId: ticketWorkflowId(id),
        taskQueue: h.config.temporal.taskQueue,
        workflowIdConflictPolicy: 'USE_EXISTING',
        args: [{ create }],
      });
      await expect(h.temporal.client.workflow.executeUpdateWithStart(createdUpdate, { startWorkflowOperation: start })).rejects.toThrow(
        'Workflow Update failed',
      );
      // replayed while it waits out its last minute (a history need not be complete to replay)
      const history = await h.temporal.client.workflow.getHandle(ticketWorkflowId(id)).fetchHistory();
      await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history, ticketWorkflowId(id))).resolves.toBeUndefined();
      if (process.env.RECORD_HISTORIES) {
        await writeFile(path.join(FIXTURES, fixtureName('create-refused', history)), History.encode(history).finish());
      }
    },
  );

  it('replays fresh histories of a merge: the source’s (absorb activity, merged, ended) and the target’s (absorb)', async () => {
    const { token } = await signedIn(h, 'admin');
    const create = async (title: string) => (await call(h, 'POST', '/api/v1/tickets', { token, body: { title, priority: 'high' } })).body;
    const source = await create('Replay merge source');
    const target = await create('Replay merge target');
    await call(h, 'POST', `/api/v1/tickets/${source.id}/notes`, { token, body: { content: 'before the merge' } });
    const res = await call(h, 'POST', `/api/v1/tickets/${source.id}/merge`, { token, body: { target: target.id, note: 'duplicate' } });
    expect(res.status).toBe(200);
    // the target keeps living: one more change after the absorb
    expect((await call(h, 'PATCH', `/api/v1/tickets/${target.id}`, { token, body: { status: 'under_investigation' } })).status).toBe(200);
    const sourceHandle = h.temporal.client.workflow.getHandle(ticketWorkflowId(source.id));
    await sourceHandle.result(); // a merged ticket's workflow ends
    for (const [name, id] of [
      ['merge-source', source.id],
      ['merge-target', target.id],
    ] as const) {
      const history = await h.temporal.client.workflow.getHandle(ticketWorkflowId(id)).fetchHistory();
      await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history, ticketWorkflowId(id)), name).resolves.toBeUndefined();
      if (process.env.RECORD_HISTORIES) {
        await writeFile(path.join(FIXTURES, fixtureName(name, history)), History.encode(history).finish());
      }
    }
  });

  it('replays every recorded history from earlier code', async () => {
    const files = (await readdir(FIXTURES)).filter((f) => f.endsWith('.history.pb'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const history = History.decode(await readFile(path.join(FIXTURES, file)));
      await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history, file), file).resolves.toBeUndefined();
    }
  }, 180_000); // 15 histories: 7 s alone, past 30 s on a loaded machine (29 since ticketWorkflowV2: 4 s here)
});
