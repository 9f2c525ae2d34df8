/** WORKER_METRICS_ADDRESS: a worker process serves the Temporal SDK's Prometheus metrics. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/dev/ports.js';
import { eventually } from '../helpers/eventually.js';
import { ensureSlaPolicies, signedIn } from '../helpers/factories.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';
import { kill, launch, workerEnv } from '../helpers/processes.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ worker: false });
  await ensureSlaPolicies(h.db);
});
afterAll(() => h?.stop());

describe('worker metrics', () => {
  it('are served on WORKER_METRICS_ADDRESS, per task queue, with conventional names, once the worker has work', async () => {
    const port = await freePort();
    const worker = launch('src/main/worker.ts', workerEnv(h, { WORKER_METRICS_ADDRESS: `127.0.0.1:${port}` }));
    try {
      await worker.ready;
      const { token } = await signedIn(h, 'admin');
      // a create writes its row by a local activity (ticketWorkflowV2), a change by a regular one
      const created = await call(h, 'POST', '/api/v1/tickets', { token, body: { title: 'Measured', priority: 'low' } });
      expect(created.status).toBe(201);
      expect((await call(h, 'PATCH', `/api/v1/tickets/${created.body.id}`, { token, body: { description: 'changed' } })).status).toBe(200);
      const text = await eventually(async () => {
        const body = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
        return body.includes('temporal_activity_execution_latency') && body.includes('temporal_local_activity_execution_latency') && body;
      }, 60_000);
      // Prometheus conventions: counters end in _total, durations are histograms in seconds
      expect(text).toMatch(/^# TYPE temporal_activity_execution_latency_seconds histogram$/m);
      expect(text).toMatch(/^# TYPE temporal_local_activity_execution_latency_seconds histogram$/m);
      expect(text).not.toMatch(/^# TYPE \w*_milliseconds /m);
      const counters = [...text.matchAll(/^# TYPE (\w+) counter$/gm)].map((m) => m[1]!);
      expect(counters.length).toBeGreaterThan(3);
      expect(counters.filter((name) => !name.endsWith('_total'))).toEqual([]);
      const queue = h.config.temporal.taskQueue;
      expect(text).toMatch(new RegExp(`^temporal_\\w+\\{[^}]*task_queue="${queue}"`, 'm'));
      expect(text).toMatch(new RegExp(`^temporal_\\w+\\{[^}]*task_queue="${queue}-webhooks"`, 'm'));
    } finally {
      await kill(worker.child);
    }
  }, 150_000);
});
