/**
 * The SLA repair batch on the real dev server: pages of one ticket and two pages per run, so it
 * continues-as-new several times; its worker is stopped mid-batch and started again, and the batch
 * carries on from its history. Every open ticket is retargeted exactly once (one audit entry, the
 * new version), and the progress row ends with the right figures. On a database of its own.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSlaTerms } from '../../src/store/sla-terms.js';
import { slaRepairWorkflowId } from '../../src/commands/sla/repairs.js';
import type { slaRepairWorkflow } from '../../workflows/sla-repair.workflow.js';
import { eventually } from '../helpers/eventually.js';
import { ensureSlaPolicies, signedIn } from '../helpers/factories.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ scratch: 'sla_repair', env: { RATE_LIMIT_PER_MINUTE: '100000' } });
  await ensureSlaPolicies(h.db);
});
afterAll(() => h?.stop());

describe('SLA repair batch', () => {
  it('continues-as-new, survives a worker stop mid-batch, and retargets each open ticket exactly once', async () => {
    const { token } = await signedIn(h, 'admin');
    const tickets = [];
    for (let i = 0; i < 6; i++) {
      const t = await call(h, 'POST', '/api/v1/tickets', { token, body: { title: `Repair ${i}`, priority: 'low' } });
      expect(t.status).toBe(201);
      tickets.push(t.body);
    }
    const put = await call(h, 'PUT', '/api/v1/sla-policies/low', {
      token,
      body: { assign_target_seconds: 1_234, resolve_target_seconds: 12_345 },
    });
    expect(put.body.version).toBe(2);
    const terms = (await loadSlaTerms(h.db, 'low'))!;

    const repairId = randomUUID();
    await h.db('sla_repairs').insert({ id: repairId, policyKey: 'default:low', policyVersion: 2 });
    await h.worker!.stop();
    const handle = await h.temporal.client.workflow.start<typeof slaRepairWorkflow>('slaRepairWorkflow', {
      workflowId: slaRepairWorkflowId(repairId),
      taskQueue: h.config.temporal.taskQueue,
      args: [
        {
          repairId,
          policyKey: 'default:low',
          version: 2,
          terms: { low: terms },
          actor: { type: 'system', userId: null },
          pageSize: 1,
          pagesPerRun: 2,
        },
      ],
    });
    const progress = () => h.db('sla_repairs').where({ id: repairId }).first();

    await h.startWorker();
    await eventually(async () => (await progress()).done >= 2, 60_000, 50);
    await h.worker!.stop(); // mid-batch: the rest waits in Temporal for a worker
    const paused = await progress();
    await h.startWorker();

    const finished = await eventually(async () => {
      const p = await progress();
      return p.status === 'completed' && p;
    });
    expect(finished).toMatchObject({ total: 6, done: 6, skipped: 0, failed: 0 });
    expect(paused.done).toBeGreaterThanOrEqual(2);
    // six pages of one, two per run: it continued as new
    expect((await handle.describe()).runId).not.toBe(handle.firstExecutionRunId);
    expect(await handle.result()).toMatchObject({ done: 6, skipped: 0, failed: 0 });

    for (const t of tickets) {
      const sla = (await call(h, 'GET', `/api/v1/tickets/${t.id}/sla`, { token })).body;
      expect(sla.policy).toEqual({ rule_id: null, name: 'default (low)', version: 2 });
      expect(sla.assign.target_seconds).toBe(1_234);
      const applied = await h.db('audit_log').where({ ticketId: t.id, action: 'sla_policy_applied' });
      expect(applied).toHaveLength(1);
    }
    // Two worker stops and starts (each may wait out an in-flight task's grace and the sticky queue's
    // timeout) and a first wait of up to 60 s: 4.7 s alone, past 30 s once in a loaded CI run.
  }, 120_000);
});
