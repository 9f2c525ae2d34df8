/**
 * A ticket that never goes quiet still continues-as-new at its cap: once a run has decided to
 * continue it refuses new Updates (`ticket_draining`) until its handlers finish, and the API sends
 * them again to the next run. Before, back-to-back changes kept the run's handlers from ever all
 * finishing: the run grew until the load stopped (10,994 events for 1,000 changes in the replay
 * bench). Every change must still be applied exactly once, each answered 200.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, Ticket } from '../../src/models/index.js';
import { createdUpdate, ticketWorkflowId } from '../../workflows/definitions.js';
import { ensureSlaPolicies, signedIn } from '../helpers/factories.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';
import { ticketCreateInput } from '../helpers/snapshots.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { RATE_LIMIT_PER_MINUTE: '100000' } });
  await ensureSlaPolicies(h.db);
});
afterAll(() => h.stop());

const CHANGES = 120;
const PER_RUN = 20;
const CONCURRENCY = 6;

describe('continue-as-new under steady load', () => {
  it(`continues every ${PER_RUN} changes while ${CONCURRENCY} clients change the ticket back to back`, async () => {
    const admin = await signedIn(h, 'admin');
    const id = randomUUID();
    const workflowId = ticketWorkflowId(id);
    await h.temporal.client.workflow.start('ticketWorkflowV2', {
      workflowId,
      taskQueue: h.config.temporal.taskQueue,
      args: [
        {
          create: ticketCreateInput({ type: 'user', userId: admin.user.id }, { id, title: 'Never quiet' }),
          maxMutationsPerRun: PER_RUN,
        },
      ],
    });
    await h.temporal.client.workflow.getHandle(workflowId).executeUpdate(createdUpdate);

    let next = 0;
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < CHANGES) {
          const i = next++;
          const res = await call(h, 'PATCH', `/api/v1/tickets/${id}`, { token: admin.token, body: { description: `change ${i}` } });
          statuses.push(res.status);
        }
      }),
    );
    expect(statuses).toEqual(Array(CHANGES).fill(200));

    const runs: string[] = [];
    for await (const wf of h.temporal.client.workflow.list({ query: `WorkflowId='${workflowId}'` })) runs.push(wf.runId);
    expect(runs.length).toBeGreaterThanOrEqual(CHANGES / PER_RUN);
    const row = await Ticket.query(h.db).findById(id);
    expect(row!.version).toBe(CHANGES + 1);
    const versions = (await AuditLog.query(h.db).where({ ticketId: id })).map((a) => a.ticketVersion);
    expect(new Set(versions).size).toBe(CHANGES + 1);
  }, 180_000);
});
