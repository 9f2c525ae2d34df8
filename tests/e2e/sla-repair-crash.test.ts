/**
 * The SLA repair batch survives a worker process SIGKILLed mid-batch: after a restart it carries on
 * from its history, and every open ticket on the policy is retargeted exactly once (one version,
 * one `sla_policy_applied` audit entry), with the progress row's figures right. On a database of
 * its own (it edits an SLA policy).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slaRepairWorkflowId } from '../../src/commands/sla/repairs.js';
import { loadSlaTerms } from '../../src/store/sla-terms.js';
import type { slaRepairWorkflow } from '../../workflows/sla-repair.workflow.js';
import { eventually } from '../helpers/eventually.js';
import { ensureSlaPolicies, signedIn } from '../helpers/factories.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';
import { kill, launch, workerEnv } from '../helpers/processes.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ worker: false, scratch: 'sla_repair_crash', env: { RATE_LIMIT_PER_MINUTE: '100000' } });
  await ensureSlaPolicies(h.db);
});
afterAll(() => h?.stop());

describe('SLA repair, worker SIGKILLed mid-batch', () => {
  it('resumes after the restart and retargets each open ticket exactly once', async () => {
    let worker = launch('src/main/worker.ts', workerEnv(h));
    try {
      await worker.ready;
      const { token } = await signedIn(h, 'admin');
      const tickets: { id: string }[] = [];
      for (let i = 0; i < 8; i++) {
        const t = await call(h, 'POST', '/api/v1/tickets', { token, body: { title: `Crash repair ${i}`, priority: 'high' } });
        expect(t.status).toBe(201);
        tickets.push(t.body);
      }
      const put = await call(h, 'PUT', '/api/v1/sla-policies/high', {
        token,
        body: { assign_target_seconds: 999, resolve_target_seconds: 9_999 },
      });
      expect(put.body.version).toBe(2);

      // pages of one ticket, so the kill lands between pages (the API starts batches with pages of 50)
      const repairId = randomUUID();
      await h.db('sla_repairs').insert({ id: repairId, policyKey: 'default:high', policyVersion: 2 });
      const terms = (await loadSlaTerms(h.db, 'high'))!;
      const handle = await h.temporal.client.workflow.start<typeof slaRepairWorkflow>('slaRepairWorkflow', {
        workflowId: slaRepairWorkflowId(repairId),
        taskQueue: h.config.temporal.taskQueue,
        args: [
          { repairId, policyKey: 'default:high', version: 2, terms: { high: terms }, actor: { type: 'system', userId: null }, pageSize: 1 },
        ],
      });
      const progress = () => h.db('sla_repairs').where({ id: repairId }).first();
      await eventually(async () => (await progress()).done >= 2, 60_000, 20);
      await kill(worker.child);
      const atKill = await progress();
      expect(atKill.status).toBe('running');

      worker = launch('src/main/worker.ts', workerEnv(h));
      await worker.ready;
      const finished = await eventually(async () => {
        const p = await progress();
        return p.status === 'completed' && p;
      }, 90_000);
      expect(finished).toMatchObject({ total: 8, done: 8, skipped: 0, failed: 0 });
      expect(await handle.result()).toMatchObject({ done: 8, failed: 0 });
      for (const t of tickets) {
        const row = await h.db('tickets').where({ id: t.id }).first();
        expect(row.slaState.policy).toMatchObject({ key: 'default:high', version: 2 });
        expect(row.slaState.assign.targetSeconds).toBe(999);
        expect(await h.db('audit_log').where({ ticketId: t.id, action: 'sla_policy_applied' })).toHaveLength(1);
        // versions contiguous: create (1) and one retarget (2), nothing applied twice
        expect(row.version).toBe(2);
      }
    } finally {
      await kill(worker.child);
    }
  }, 240_000); // two worker starts, a batch and its waits (60 s + 90 s) on a loaded machine
});
