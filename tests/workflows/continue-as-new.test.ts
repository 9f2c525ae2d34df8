/**
 * A ticket with hundreds of updates behaves like a fresh one: with a low per-run cap the workflow
 * continues-as-new several times, and its state, its row, its audit trail and its memory of past
 * requests come through intact.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshotOf } from '../../src/store/ticket-records.js';
import { AuditLog, Ticket } from '../../src/models/index.js';
import { addNoteUpdate, changeUpdate, createdUpdate, stateQuery, ticketWorkflowId, type Actor } from '../../workflows/definitions.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { createUser, ensureSlaPolicies } from '../helpers/factories.js';
import { ticketCreateInput } from '../helpers/snapshots.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await ensureSlaPolicies(h.db);
});
afterAll(() => h.stop());

const UPDATES = 240;
const PER_RUN = 50;

describe('continue-as-new', () => {
  it(`carries state through ${UPDATES} updates over ${Math.ceil(UPDATES / PER_RUN)}+ runs`, async () => {
    const user = await createUser(h.db, { role: 'admin' });
    const actor: Actor = { type: 'user', userId: user.id };
    const id = randomUUID();
    const workflowId = ticketWorkflowId(id);
    await h.temporal.client.workflow.start('ticketWorkflow', {
      workflowId,
      taskQueue: h.config.temporal.taskQueue,
      args: [
        {
          create: ticketCreateInput(actor, { id, title: 'Busy ticket', priority: 'medium' }),
          maxMutationsPerRun: PER_RUN,
        },
      ],
    });
    const handle = h.temporal.client.workflow.getHandle(workflowId);
    await handle.executeUpdate(createdUpdate);

    // A request from the second run, old enough to have crossed several continue-as-news but within
    // the 200 results the workflow carries.
    const OLD = 61;
    const oldRequest = `req-${randomUUID()}`;
    for (let i = 1; i <= UPDATES; i++) {
      const requestId = i === OLD ? oldRequest : `req-${randomUUID()}`;
      // a fresh handle each time: after continue-as-new, updates go to the newest run
      const result =
        i % 10 === 0
          ? await h.temporal.client.workflow.getHandle(workflowId).executeUpdate(addNoteUpdate, {
              args: [{ requestId, actor, noteId: randomUUID(), content: `note ${i}`, isInternal: false }],
              updateId: requestId,
            })
          : await h.temporal.client.workflow.getHandle(workflowId).executeUpdate(changeUpdate, {
              args: [{ requestId, actor, expectedVersion: i, changes: { title: `title ${i}`, tags: [`t${i % 7}`] } }],
              updateId: requestId,
            });
      expect(result).toEqual({ version: i + 1, changed: true });
    }

    const runs: string[] = [];
    for await (const wf of h.temporal.client.workflow.list({ query: `WorkflowId='${workflowId}'` })) runs.push(wf.runId);
    expect(runs.length).toBeGreaterThanOrEqual(Math.floor(UPDATES / PER_RUN));

    const state = await h.temporal.client.workflow.getHandle(workflowId).query(stateQuery);
    const row = await Ticket.query(h.db).findById(id);
    expect(state).toEqual(snapshotOf(row!));
    expect(state).toMatchObject({ version: UPDATES + 1, title: `title ${UPDATES - 1}`, deleted: false });

    // every version written exactly once
    const versions = (await AuditLog.query(h.db).where({ ticketId: id }).orderBy('ticket_version')).map((a) => a.ticketVersion);
    expect(new Set(versions).size).toBe(UPDATES + 1);
    expect(versions.filter((v) => v === 2)).toHaveLength(2); // title and tags changed in version 2

    // that old request, retried after several continue-as-news, is answered, not re-applied
    const retried = await h.temporal.client.workflow.getHandle(workflowId).executeUpdate(changeUpdate, {
      args: [{ requestId: oldRequest, actor, expectedVersion: OLD, changes: { title: `title ${OLD}` } }],
      updateId: oldRequest,
    });
    expect(retried).toEqual({ version: OLD + 1, changed: true });
    expect((await h.temporal.client.workflow.getHandle(workflowId).query(stateQuery))!.version).toBe(UPDATES + 1);
  }, 180_000);
});
