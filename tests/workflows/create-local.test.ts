/**
 * ticketWorkflowV2 writes the ticket row by a local activity inside its first workflow task. An
 * attempt whose write committed but whose result never came back (the process stalled or died
 * right after the commit) must not create the ticket twice: the attempt times out (10 s), the local
 * activity runs again, and createTicketRecord returns the row already written — one row, one
 * `created` audit entry, one `ticket.created` event — and the `created` Update is answered. (A
 * worker SIGKILLed mid-create, the task retried elsewhere: tests/e2e/crash.test.ts.)
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Context } from '@temporalio/activity';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import { AuditLog, Event, Ticket } from '../../src/models/index.js';
import { createdUpdate, ticketWorkflowId, type TicketCreateInput } from '../../workflows/definitions.js';
import type { ticketWorkflowV2 } from '../../workflows/ticket.workflow.js';
import { ensureSlaPolicies, signedIn } from '../helpers/factories.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { ticketCreateInput } from '../helpers/snapshots.js';

let h: Harness;
let bundle: { code: string };
beforeAll(async () => {
  h = await startHarness({ worker: false });
  await ensureSlaPolicies(h.db);
  bundle = { code: await readFile(inject('workflowBundlePath'), 'utf8') };
});
afterAll(() => h.stop());

/** A worker on the harness's queue whose createTicketRecord is `create` (the real one unless given). */
async function worker(
  connection: NativeConnection,
  wrap?: (real: (i: TicketCreateInput) => Promise<unknown>) => (i: TicketCreateInput) => Promise<unknown>,
) {
  const activities = createActivities({
    db: h.db,
    temporal: h.temporal.client,
    webhooks: { settings: h.config.webhooks, taskQueue: `${h.config.temporal.taskQueue}-webhooks` },
  });
  if (wrap) (activities as Record<string, unknown>).createTicketRecord = wrap(activities.createTicketRecord);
  return Worker.create({
    connection,
    namespace: 'default',
    taskQueue: h.config.temporal.taskQueue,
    workflowBundle: bundle,
    activities,
    shutdownGraceTime: '1 second',
    maxCachedWorkflows: 10,
  });
}

describe('ticketWorkflowV2 create (local activity)', () => {
  it('an attempt lost after its write: the retry finds the row, the ticket is created once', async () => {
    const { user } = await signedIn(h, 'admin');
    const id = randomUUID();
    const create: TicketCreateInput = ticketCreateInput(
      { type: 'user', userId: user.id },
      { id, title: 'Written, then the attempt was lost', slaTerms: null, requestId: `req-${id}` },
    );
    const connection = await NativeConnection.connect({ address: h.config.temporal.address! });
    let attempts = 0;
    // the first attempt writes the row and never reports it; later ones are the real activity
    const w = await worker(connection, (real) => async (input) => {
      const result = await real(input);
      // (it heeds the cancellation the local activity's timeout sends, as the SDK needs to let go of it)
      if (++attempts === 1) await Context.current().cancelled;
      return result;
    });
    const running = w.run();
    try {
      const start = new WithStartWorkflowOperation<typeof ticketWorkflowV2>('ticketWorkflowV2', {
        workflowId: ticketWorkflowId(id),
        taskQueue: h.config.temporal.taskQueue,
        workflowIdConflictPolicy: 'USE_EXISTING',
        args: [{ create }],
      });
      const answer = await h.temporal.client.workflow.executeUpdateWithStart(createdUpdate, {
        startWorkflowOperation: start,
        updateId: `created-${id}`,
      });
      expect(answer).toMatchObject({ id, version: 1 });
      expect(attempts).toBe(2);
      expect(await Ticket.query(h.db).where({ id })).toHaveLength(1);
      expect(await AuditLog.query(h.db).where({ ticketId: id, action: 'created' })).toHaveLength(1);
      expect(await Event.query(h.db).where({ ticketId: id, type: 'ticket.created' })).toHaveLength(1);
      const history = await h.temporal.client.workflow.getHandle(ticketWorkflowId(id)).fetchHistory();
      const markers = (history.events ?? []).filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity');
      expect(markers).toHaveLength(1); // one marker, for the attempt that answered
      expect((history.events ?? []).some((e) => e.activityTaskScheduledEventAttributes)).toBe(false);
    } finally {
      w.shutdown();
      await running;
      await connection.close();
    }
  }, 90_000);
});
