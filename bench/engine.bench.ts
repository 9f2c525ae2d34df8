/**
 * The engine's own baselines, measured on whichever Temporal BENCH_ENGINE selects (dev | postgres),
 * so every other figure of the same run can be read against them:
 *   - engine_workflow_start: starting an empty workflow (no worker) at concurrency 32 — the ceiling
 *     for anything that starts a workflow per request;
 *   - engine_timer_lateness: BENCH_TIMERS bare timer workflows due inside a 5 s window (BENCH_TIMER_WINDOW_S), each
 *     returning its workflow clock when its timer fired — the floor for SLA breach lateness;
 *   - engine_cost: what such a bare timer workflow costs the engine (workflow tasks, activity
 *     tasks, history events; read from its history), the floor for a ticket's SLA signal.
 * Failures and slow answers are counted and reported, never fatal.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { startBenchTemporal } from './lib/engine.js';
import { benchEngine, load, percentile, report, round, scratchDatabase } from './lib/harness.js';
import { operationCosts, summarizeCosts } from './lib/history-cost.js';

const N = Number(process.env.BENCH_N ?? 400);
const TIMERS = Number(process.env.BENCH_TIMERS ?? 200);
const WINDOW_MS = Number(process.env.BENCH_TIMER_WINDOW_S ?? 5) * 1000;
const LEAD_MS = Number(process.env.BENCH_TIMER_LEAD_S ?? 30) * 1000;

Runtime.install({
  logger: {
    log: () => undefined,
    trace: () => undefined,
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (m: string) => console.error(m),
  },
});
const scratch = await scratchDatabase();
const startedAt = Date.now();
const temporal = await startBenchTemporal(scratch);
const engineStartS = round((Date.now() - startedAt) / 1000, 1);
const connection = await Connection.connect({ address: temporal.address });
const client = new Client({ connection, namespace: 'default' });
const taskQueue = `bench-timer-${randomUUID()}`;
const workerConnection = await NativeConnection.connect({ address: temporal.address });
const worker = await Worker.create({
  connection: workerConnection,
  namespace: 'default',
  taskQueue,
  workflowsPath: path.join(import.meta.dirname, 'workflows/timer.ts'),
});
const running = worker.run();

try {
  report('engine_ready', { seconds: engineStartS, pid: temporal.pid, address: temporal.address, engine_choice: benchEngine() });
  await load(50, 8, () =>
    client.workflow.start('benchEmptyWorkflow', { workflowId: `warm-${randomUUID()}`, taskQueue: 'bench-no-worker' }),
  );
  const start = await load(N, 32, () =>
    client.workflow.start('benchEmptyWorkflow', { workflowId: `bench-empty-${randomUUID()}`, taskQueue: 'bench-no-worker' }),
  );
  report('engine_workflow_start', { ...start });

  const windowStart = Date.now() + LEAD_MS;
  const dueOf = (i: number) => windowStart + Math.floor((i / TIMERS) * WINDOW_MS);
  const handles: { id: string; due: number; result: Promise<number> }[] = [];
  const starting = await load(TIMERS, 32, async (i) => {
    const id = `bench-timer-${randomUUID()}`;
    const h = await client.workflow.start('benchTimerWorkflow', { workflowId: id, taskQueue, args: [dueOf(i)] });
    const result = h.result() as Promise<number>;
    result.catch(() => undefined);
    handles.push({ id, due: dueOf(i), result });
  });
  const readyBeforeWindowS = round((windowStart - Date.now()) / 1000, 1);
  const settled = await Promise.allSettled(handles.map(async (h) => (await h.result) - h.due));
  const lateness = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : [])).sort((a, b) => a - b);
  report('engine_timer_lateness', {
    timers: TIMERS,
    window_s: WINDOW_MS / 1000,
    start_per_second: starting.per_second,
    start_errors: starting.errors ?? 0,
    ready_before_window_s: readyBeforeWindowS,
    fired: lateness.length,
    failed: settled.length - lateness.length,
    p50_ms: round(percentile(lateness, 50)),
    p99_ms: round(percentile(lateness, 99)),
    max_ms: round(lateness.at(-1) ?? NaN),
  });
  const costs = [];
  for (const { id } of handles.slice(0, 20))
    costs.push(...operationCosts((await client.workflow.getHandle(id).fetchHistory()).events ?? []));
  report('engine_cost', { source: 'bare timer workflow', workflows: Math.min(20, handles.length), per_operation: summarizeCosts(costs) });
} finally {
  worker.shutdown();
  await running;
  await workerConnection.close();
  await connection.close();
  await temporal.stop();
  await scratch.drop();
}
