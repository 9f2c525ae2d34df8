/**
 * Replay across continue-as-new: a ticket whose first run ends by continuing-as-new (after a
 * status and group change, a note added and edited, a file uploaded and deleted, a write refused
 * for good, a tag change) and whose second run starts from the carried state (a priority change
 * that re-targets the SLA clocks, the signals that follow, pause, reopen-free resolve, a note, a
 * delete). Both runs' histories must replay on the current code. RECORD_HISTORIES=1 saves them as
 * fixtures (`continued-*` ends in continue-as-new, `carried-*` starts from carried state), which
 * "replays every recorded history" in replay.test.ts then replays on every run.
 *
 * The first run is a ticketWorkflow (a ticket from before ticketWorkflowV2: it records its patch
 * markers and continues as V2, `continued-v1v2-*`) or a ticketWorkflowV2 (no markers, the create a
 * local activity, `continued-v2-*`); the second run is a ticketWorkflowV2 either way (`carried-v2-*`,
 * saved once). A ticketWorkflowV2 created by `POST /tickets` with a change and SLA signals is
 * recorded too (`v2-sla-*`).
 *
 * Its own database: the short critical policy would breach other files' tickets.
 */
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import proto from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Event } from '../../src/models/index.js';
import { changeUpdate, createdUpdate, ticketWorkflowId, type Actor } from '../../workflows/definitions.js';
import { CONTINUE_AS_V2_PATCH, SLA_LOCAL_WRITES_PATCH } from '../../workflows/patches.js';
import { eventually } from '../helpers/eventually.js';
import { createUser } from '../helpers/factories.js';
import { call, type Harness } from '../helpers/harness.js';
import { startSlaHarness } from '../helpers/sla-harness.js';
import { ticketCreateInput } from '../helpers/snapshots.js';

const { History } = proto.temporal.api.history.v1;
let h: Harness;
let token: string;
let groupId: string;

beforeAll(async () => {
  ({ h, token, groupId } = await startSlaHarness('replay_can', {
    critical: { assign_target_seconds: 1, resolve_target_seconds: 2, at_risk_percent: 50 },
    low: { assign_target_seconds: 600, resolve_target_seconds: 600, at_risk_percent: 80 },
    // the POST-created V2 ticket's (not critical: tests/api/tickets.test.ts finds its own critical
    // ticket by number, and numbers repeat across the files' databases on the shared Temporal)
    high: { assign_target_seconds: 1, resolve_target_seconds: 2, at_risk_percent: 50 },
  }));
});
afterAll(async () => {
  await h?.stop();
});

async function ok(method: string, url: string, body?: unknown) {
  const res = await call(h, method, url, { token, body });
  expect(res.status, `${method} ${url}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
  return res.body;
}

async function upload(ticketId: string): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob(['hello, carried world\n'], { type: 'text/plain' }), 'hello.txt');
  const res = await fetch(`${h.baseUrl}/api/v1/tickets/${ticketId}/attachments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }[])[0]!.id;
}

const PER_RUN = 6;

type History = proto.temporal.api.history.v1.IHistory;
const typeOf = (history: History) => history.events![0]!.workflowExecutionStartedEventAttributes!.workflowType!.name;
const patchIds = (history: History) =>
  history.events!.flatMap((e) => {
    const m = e.markerRecordedEventAttributes;
    return m?.markerName === 'core_patch'
      ? [JSON.parse(Buffer.from(m.details!['patch-data']!.payloads![0]!.data!).toString('utf8')).id]
      : [];
  });
/** the patches a V2 run may record: those added after ticketWorkflowV2 (workflows/patches.ts) */
const sinceV2 = (history: History) => patchIds(history).filter((id) => id !== SLA_LOCAL_WRITES_PATCH);
const hasLocalActivity = (history: History) =>
  history.events!.some((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity');

describe('replay across continue-as-new', () => {
  it.each(['ticketWorkflow', 'ticketWorkflowV2'])(
    'replays a %s run that ends in continue-as-new and the ticketWorkflowV2 run that starts from its carried state',
    async (firstType) => {
      const admin = await createUser(h.db, { role: 'admin' });
      const actor: Actor = { type: 'user', userId: admin.id };
      const id = randomUUID();
      const workflowId = ticketWorkflowId(id);
      const first = await h.temporal.client.workflow.start(firstType, {
        workflowId,
        taskQueue: h.config.temporal.taskQueue,
        args: [
          {
            create: ticketCreateInput(actor, { id, title: 'Carried across runs' }),
            maxMutationsPerRun: PER_RUN,
          },
        ],
      });
      await h.temporal.client.workflow.getHandle(workflowId).executeUpdate(createdUpdate);

      // run 1: six mutations of every request kind but delete, and one refused write
      await ok('PATCH', `/api/v1/tickets/${id}`, { status: 'under_investigation', assigned_group_id: groupId });
      const note = await ok('POST', `/api/v1/tickets/${id}/notes`, { content: 'first note', is_internal: true });
      await ok('PATCH', `/api/v1/tickets/${id}/notes/${note.id}`, { content: 'first note, edited' });
      const file = await upload(id);
      await ok('DELETE', `/api/v1/attachments/${file}`);
      const refused = h.temporal.client.workflow.getHandle(workflowId).executeUpdate(changeUpdate, {
        args: [{ requestId: `change-${randomUUID()}`, actor, expectedVersion: null, changes: { description: 'a\u0000b' } }],
      });
      await expect(refused).rejects.toThrow('Workflow Update failed');
      await ok('PATCH', `/api/v1/tickets/${id}`, { tags: ['carried'] });

      const firstHistory = await h.temporal.client.workflow.getHandle(workflowId, first.firstExecutionRunId).fetchHistory();
      const exit = firstHistory.events!.at(-1)!.workflowExecutionContinuedAsNewEventAttributes;
      expect(exit, 'run 1 ends in continue-as-new').toBeTruthy();
      const secondRunId = exit!.newExecutionRunId!;

      // run 2: a priority change re-targets the clocks (its terms read by an activity); the
      // signals due fire; pause, resolve, a note; then delete
      await ok('PATCH', `/api/v1/tickets/${id}`, { priority: 'critical' });
      await eventually(async () => {
        const fired = await Event.query(h.db).where({ ticketId: id }).where('type', 'ticket.sla_breached');
        return fired.length >= 2;
      }, 20_000);
      await ok('PATCH', `/api/v1/tickets/${id}`, { status: 'paused' });
      await ok('PATCH', `/api/v1/tickets/${id}`, { status: 'resolved' });
      await ok('POST', `/api/v1/tickets/${id}/notes`, { content: 'after resolving' });
      expect((await call(h, 'DELETE', `/api/v1/tickets/${id}`, { token })).status).toBe(204);
      const second = h.temporal.client.workflow.getHandle(workflowId, secondRunId);
      await second.result();
      const secondHistory = await second.fetchHistory();
      const started = secondHistory.events![0]!.workflowExecutionStartedEventAttributes!;
      const input = JSON.parse(Buffer.from(started.input!.payloads![0]!.data!).toString('utf8'));
      expect(input.create).toBeUndefined();
      expect(input.carried.snapshot).toMatchObject({ id, version: 7, tags: ['carried'], status: 'under_investigation' });
      expect(secondHistory.events!.at(-1)!.workflowExecutionCompletedEventAttributes).toBeTruthy();
      // either type continues as V2; V2 runs record no patch marker, a V1 run records its own
      expect(typeOf(firstHistory)).toBe(firstType);
      expect(exit!.workflowType!.name).toBe('ticketWorkflowV2');
      expect(typeOf(secondHistory)).toBe('ticketWorkflowV2');
      expect(sinceV2(secondHistory)).toEqual([]);
      if (firstType === 'ticketWorkflow') {
        expect(patchIds(firstHistory)).toContain(CONTINUE_AS_V2_PATCH);
        expect(hasLocalActivity(firstHistory)).toBe(false);
      } else {
        expect(sinceV2(firstHistory)).toEqual([]);
        expect(hasLocalActivity(firstHistory)).toBe(true); // the create
      }

      const bundle = { code: await readFile(inject('workflowBundlePath'), 'utf8') };
      await expect(Worker.runReplayHistory({ workflowBundle: bundle }, firstHistory, workflowId)).resolves.toBeUndefined();
      await expect(Worker.runReplayHistory({ workflowBundle: bundle }, secondHistory, workflowId)).resolves.toBeUndefined();
      if (process.env.RECORD_HISTORIES) {
        const tag = randomUUID().slice(0, 8);
        const dir = path.join(import.meta.dirname, 'histories');
        const v1 = firstType === 'ticketWorkflow';
        await writeFile(path.join(dir, `continued-${v1 ? 'v1v2' : 'v2'}-${tag}.history.pb`), History.encode(firstHistory).finish());
        if (v1) await writeFile(path.join(dir, `carried-v2-${tag}.history.pb`), History.encode(secondHistory).finish());
      }
    },
  );

  it('replays a ticketWorkflowV2 created by POST /tickets: its create, SLA signals and a change', async () => {
    const t = await ok('POST', '/api/v1/tickets', { title: 'V2 with signals', priority: 'high' });
    // the assign clock (1 s) passes at-risk and breach before anyone assigns the ticket
    await eventually(
      async () => (await Event.query(h.db).where({ ticketId: t.id }).where('type', 'ticket.sla_breached')).length >= 1,
      20_000,
    );
    await ok('PATCH', `/api/v1/tickets/${t.id}`, { status: 'under_investigation', assigned_group_id: groupId });
    expect((await call(h, 'DELETE', `/api/v1/tickets/${t.id}`, { token })).status).toBe(204);
    const handle = h.temporal.client.workflow.getHandle(ticketWorkflowId(t.id));
    await handle.result();
    const history = await handle.fetchHistory();
    expect(typeOf(history)).toBe('ticketWorkflowV2');
    expect(sinceV2(history)).toEqual([]);
    expect(history.events!.some((e) => e.timerFiredEventAttributes)).toBe(true);
    const bundle = { code: await readFile(inject('workflowBundlePath'), 'utf8') };
    await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history, ticketWorkflowId(t.id))).resolves.toBeUndefined();
    if (process.env.RECORD_HISTORIES) {
      const file = path.join(import.meta.dirname, 'histories', `v2-sla-${randomUUID().slice(0, 8)}.history.pb`);
      await writeFile(file, History.encode(history).finish());
    }
  });
});
