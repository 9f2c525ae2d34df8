/**
 * Worker memory with BENCH_WORKER_TICKETS (10,000) open tickets (SPEC §13): the worker runs in a
 * process of its own and its RSS is sampled every 250 ms while the tickets are created through
 * the API (c=32) and stay open, each a running workflow with its SLA timer. Baseline in the same
 * run: the same worker process at rest, before any ticket. Reports RSS at rest, after, peak, and
 * the growth per open ticket. Memory follows the workflow cache (TEMPORAL_MAX_CACHED_WORKFLOWS,
 * passed through from the environment), not the number of open tickets: beyond the cache a ticket
 * costs nothing in memory until it is touched (then it replays from history).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHttpServer } from '../src/server.js';
import { load, report, round } from './lib/harness.js';
import { benchStack } from './lib/stack.js';

const TICKETS = Number(process.env.BENCH_WORKER_TICKETS ?? 10_000);
const repo = path.resolve(import.meta.dirname, '..');
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

const stack = await benchStack();
const { config, logger, db, token } = stack;
const env = { ...stack.env, LOG_LEVEL: 'info' }; // the worker's readiness is read from its 'worker running' line

const worker = spawn(process.execPath, ['--import', 'tsx', 'src/main/worker.ts'], {
  cwd: repo,
  env: { ...process.env, ...env },
  stdio: ['ignore', 'pipe', 'inherit'],
});
await new Promise<void>((resolve) => worker.stdout!.on('data', (c: Buffer) => c.toString().includes('worker running') && resolve()));
const api = await startHttpServer({ config, db, temporal: stack.temporal, logger }, 0, '127.0.0.1');

let peak = 0;
const sampler = setInterval(() => (peak = Math.max(peak, rssMb(worker.pid!))), 250);
try {
  await sleep(3_000);
  const atRest = rssMb(worker.pid!);
  const created = await load(TICKETS, 32, async (i) => {
    const r = await fetch(`http://127.0.0.1:${api.port}/api/v1/tickets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ title: `Open ticket ${i}`, description: 'Stays open for the benchmark.', priority: 'low' }),
    });
    await r.arrayBuffer();
    return r.status; // counted (a 202 is accepted: the workers were slow)
  });
  await sleep(10_000); // let the last tasks settle and the heap stabilise
  const after = rssMb(worker.pid!);
  const open = (await db('tickets').where({ status: 'open' }).count('* as n').first()) as { n: string };
  report('worker_memory_open_tickets', {
    open_tickets: Number(open.n),
    max_cached_workflows: process.env.TEMPORAL_MAX_CACHED_WORKFLOWS || 'SDK default',
    rss_at_rest_mb: round(atRest, 1),
    rss_after_mb: round(after, 1),
    rss_peak_mb: round(peak, 1),
    kb_per_open_ticket: round(((after - atRest) * 1024) / Number(open.n), 1),
    create_per_second: created.per_second,
    create_statuses: created.statuses,
    create_errors: created.errors ?? 0,
  });
} finally {
  clearInterval(sampler);
  await api.close();
  worker.kill('SIGINT');
  await new Promise((r) => worker.once('exit', r));
  await stack.stop();
}
