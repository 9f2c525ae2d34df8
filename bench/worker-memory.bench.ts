/**
 * Worker memory with BENCH_WORKER_TICKETS (10,000) open tickets (SPEC §13): the worker runs in a
 * process of its own and its RSS is sampled every 250 ms while the tickets are created through
 * the API (c=32) and stay open, each a running workflow with its SLA timer. Baseline in the same
 * run: the same worker process at rest, before any ticket. Reports RSS at rest, after, peak, and
 * the growth per open ticket. Memory follows the workflow cache (TEMPORAL_MAX_CACHED_WORKFLOWS,
 * passed through from the environment), not the number of open tickets: beyond the cache a ticket
 * costs nothing in memory until it is touched (then it replays from history).
 *
 * Replay cost: before the open tickets, one ticket gets BENCH_REPLAY_CHANGES (1,000) changes
 * through the API; once the open tickets have pushed it out of the cache, a `state` query must
 * replay its current run (continue-as-new bounds that run): timed against the same query on a
 * ticket still cached, and the run's history replayed in this process (Worker.runReplayHistory).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from '@temporalio/worker';
import { loadWorkflowBundle, DEFAULT_WORKFLOW_BUNDLE_PATH } from '../src/temporal/workflow-bundle.js';
import { DEFAULT_MAX_CACHED_WORKFLOWS } from '../src/worker.js';
import { stateQuery, ticketWorkflowId } from '../workflows/definitions.js';
import { startHttpServer } from '../src/server.js';
import { load, report, round } from './lib/harness.js';
import { benchStack } from './lib/stack.js';

/** the worker's launch flag (package.json `start:worker`, docker-compose.yml `worker`): tests/unit/repository-conventions checks they agree */
const WORKER_HEAP_FLAG = '--max-old-space-size=512';
const TICKETS = Number(process.env.BENCH_WORKER_TICKETS ?? 10_000);
const CHANGES = Number(process.env.BENCH_REPLAY_CHANGES ?? 1_000);
const repo = path.resolve(import.meta.dirname, '..');
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

const stack = await benchStack({ ACCESS_TOKEN_EXPIRE_MINUTES: '600' }); // outlives a slow run (401s cut the first one short)
const { config, logger, db, token } = stack;
const env = { ...stack.env, LOG_LEVEL: 'info' }; // the worker's readiness is read from its 'worker running' line

// started as `npm run start:worker` and the compose file start it: with its heap bounded (WORKER_HEAP_FLAG)
const worker = spawn(process.execPath, [WORKER_HEAP_FLAG, '--import', 'tsx', 'src/main/worker.ts'], {
  cwd: repo,
  env: { ...process.env, ...env },
  stdio: ['ignore', 'pipe', 'inherit'],
});
await new Promise<void>((resolve) => worker.stdout!.on('data', (c: Buffer) => c.toString().includes('worker running') && resolve()));
const api = await startHttpServer({ config, db, temporal: stack.temporal, logger }, 0, '127.0.0.1');

let peak = 0;
const sampler = setInterval(() => (peak = Math.max(peak, rssMb(worker.pid!))), 250);
const send = async (method: string, path: string, body: unknown) => {
  const r = await fetch(`http://127.0.0.1:${api.port}/api/v1${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: r.status, json: (await r.json()) as { id: string } };
};
/** ms for a `state` query on the ticket's workflow (a replay when it is not cached) */
const timedQuery = async (ticketId: string) => {
  const t = performance.now();
  await stack.temporal.workflow.getHandle(ticketWorkflowId(ticketId)).query(stateQuery);
  return round(performance.now() - t, 1);
};
try {
  await sleep(3_000);
  const atRest = rssMb(worker.pid!);
  const busy = (await send('POST', '/tickets', { title: 'Changed many times', priority: 'low' })).json.id;
  const changed = await load(CHANGES, 8, async (i) => (await send('PATCH', `/tickets/${busy}`, { title: `Changed ${i}` })).status);
  const cachedQueryMs = await timedQuery(busy);
  let done = 0;
  const created = await load(TICKETS, 32, async (i) => {
    const r = await send('POST', '/tickets', { title: `Open ticket ${i}`, description: 'Stays open for the benchmark.', priority: 'low' });
    // progress on a slow machine: the RSS at each thousand
    if (++done % 1_000 === 0)
      report('worker_memory_progress', { created: done, rss_mb: round(rssMb(worker.pid!), 1), rss_peak_mb: round(peak, 1) });
    return r.status; // counted (a 202 is accepted: the workers were slow)
  });
  await sleep(10_000); // let the last tasks settle and the heap stabilise
  const after = rssMb(worker.pid!);
  const open = (await db('tickets').where({ status: 'open' }).count('* as n').first()) as { n: string };
  report('worker_memory_open_tickets', {
    open_tickets: Number(open.n),
    max_cached_workflows: process.env.TEMPORAL_MAX_CACHED_WORKFLOWS || DEFAULT_MAX_CACHED_WORKFLOWS,
    rss_at_rest_mb: round(atRest, 1),
    rss_after_mb: round(after, 1),
    rss_peak_mb: round(peak, 1),
    kb_per_open_ticket: round(((after - atRest) * 1024) / Number(open.n), 1),
    create_per_second: created.per_second,
    create_statuses: created.statuses,
    create_errors: created.errors ?? 0,
  });
  // the busy ticket is long out of the cache (TICKETS newer workflows went through it): touching it replays its run
  const handle = stack.temporal.workflow.getHandle(ticketWorkflowId(busy));
  const history = await handle.fetchHistory();
  const evictedQueryMs = await timedQuery(busy);
  const againMs = await timedQuery(busy);
  const { bundle } = await loadWorkflowBundle(DEFAULT_WORKFLOW_BUNDLE_PATH, { info: () => {}, warn: () => {} }, undefined);
  // the changes span runs (continue-as-new): the largest run is the worst a touch can replay
  let largest = history;
  let runs = 0;
  for await (const wf of stack.temporal.workflow.list({ query: `WorkflowId = '${ticketWorkflowId(busy)}'` })) {
    runs++;
    const h = await stack.temporal.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    if ((h.events?.length ?? 0) > (largest.events?.length ?? 0)) largest = h;
  }
  const replayed = performance.now();
  await Worker.runReplayHistory({ workflowBundle: bundle }, history, ticketWorkflowId(busy));
  const currentReplayMs = round(performance.now() - replayed, 1);
  const replayedLargest = performance.now();
  await Worker.runReplayHistory({ workflowBundle: bundle }, largest, ticketWorkflowId(busy));
  report('worker_replay_ticket_with_changes', {
    changes: CHANGES,
    change_statuses: changed.statuses,
    change_per_second: changed.per_second,
    current_run_events: history.events?.length,
    current_run_history_kb: round(Buffer.byteLength(JSON.stringify(history)) / 1024, 1),
    max_cached_workflows: process.env.TEMPORAL_MAX_CACHED_WORKFLOWS || DEFAULT_MAX_CACHED_WORKFLOWS,
    query_while_cached_ms: cachedQueryMs,
    query_after_eviction_ms: evictedQueryMs,
    query_again_ms: againMs,
    replay_in_process_ms: currentReplayMs,
    runs,
    largest_run_events: largest.events?.length,
    largest_run_history_kb: round(Buffer.byteLength(JSON.stringify(largest)) / 1024, 1),
    largest_run_replay_in_process_ms: round(performance.now() - replayedLargest, 1),
  });
} finally {
  clearInterval(sampler);
  await api.close();
  worker.kill('SIGINT');
  await new Promise((r) => worker.once('exit', r));
  await stack.stop();
}
