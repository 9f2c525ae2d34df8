/**
 * Worker start-up: from spawning the worker process to its 'worker running' line (both workers
 * created and polling), BENCH_WORKER_STARTS (3) times per way of starting, median and each run:
 *  - baselines, what every start did before: workflow code bundled at start, under tsx and compiled;
 *  - tsx with the prebuilt bundle (what `npm start` / `start:worker` do after `npm run build`);
 *  - compiled JavaScript with plain node and the prebuilt bundle (the Docker image): the build
 *    (`tsc` + bundle, as `npm run build` does) is made into a scratch directory first.
 * After each start one ticket is created through the API: `first_ticket_ms` is its 201's latency on
 * the fresh worker, proof that it really serves. The worker gets the stack's database and server.
 * Each figure carries the 1-minute load average when it was taken: on a shared machine it dominates.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { signAccessToken } from '../src/auth/tokens.js';
import { startHttpServer } from '../src/server.js';
import { buildWorkflowBundle } from '../src/temporal/workflow-bundle.js';
import { buildCompiled } from './lib/build.js';
import { report } from './lib/harness.js';
import { benchStack } from './lib/stack.js';

const STARTS = Number(process.env.BENCH_WORKER_STARTS ?? 3);
const repo = path.resolve(import.meta.dirname, '..');

const stack = await benchStack();
const env = { ...stack.env, LOG_LEVEL: 'info' }; // readiness is read from the 'worker running' line
const api = await startHttpServer({ config: stack.config, db: stack.db, temporal: stack.temporal, logger: stack.logger }, 0, '127.0.0.1');
// inside node_modules so the compiled entries resolve packages from this checkout's node_modules
const scratch = await mkdtemp(path.join(repo, 'node_modules', '.cache-servicemeow-bench-'));

/** Spawn, wait for 'worker running', create one ticket, stop; times in ms. */
async function startOnce(
  command: string[],
  bundlePath: string,
): Promise<{ ready_ms: number; startup_ms: number; workers_create_ms: number; first_ticket_ms: number; prebuilt: boolean }> {
  const started = performance.now();
  const child = spawn(process.execPath, command, {
    cwd: repo,
    env: { ...process.env, ...env, WORKFLOW_BUNDLE_PATH: bundlePath },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const readyMs = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('worker running')) resolve(performance.now() - started);
    });
    child.once('exit', (code) => reject(new Error(`worker exited ${code}: ${out}`)));
  });
  const t = performance.now();
  const res = await fetch(`http://127.0.0.1:${api.port}/api/v1/tickets`, {
    method: 'POST',
    // a fresh token: the whole run takes longer than one token lives
    headers: { 'content-type': 'application/json', authorization: `Bearer ${signAccessToken(stack.config, stack.user).token}` },
    body: JSON.stringify({ title: 'First ticket after a start', priority: 'low' }),
  });
  if (res.status !== 201) throw new Error(`POST /tickets ${res.status} ${await res.text()}`);
  const firstTicketMs = performance.now() - t;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  const startupMs = Number(/"startup_ms":(\d+)/.exec(out)?.[1]);
  return {
    ready_ms: Math.round(readyMs),
    startup_ms: startupMs,
    workers_create_ms: Number(/"workers_create_ms":(\d+)/.exec(out)?.[1]),
    first_ticket_ms: Math.round(firstTicketMs),
    prebuilt: /"prebuilt_bundle":true/.test(out),
  };
}

async function measure(way: string, command: string[], bundlePath: string, extra: Record<string, unknown> = {}): Promise<void> {
  const runs = [];
  for (let i = 0; i < STARTS; i++) runs.push(await startOnce(command, bundlePath));
  const sorted = runs.map((r) => r.ready_ms).sort((a, b) => a - b);
  report('worker_start', {
    way,
    starts: STARTS,
    ready_ms_median: sorted[Math.floor(sorted.length / 2)],
    ready_ms_each: runs.map((r) => r.ready_ms),
    // the worker's own figure: process uptime at 'worker running'
    startup_ms_each: runs.map((r) => r.startup_ms),
    // of which creating the two Temporal workers (at once: each loads the bundle into its isolate)
    workers_create_ms_each: runs.map((r) => r.workers_create_ms),
    first_ticket_ms_each: runs.map((r) => r.first_ticket_ms),
    used_prebuilt_bundle: runs.every((r) => r.prebuilt),
    load_average_1m: Math.round(os.loadavg()[0]! * 10) / 10,
    cores: os.availableParallelism(),
    ...extra,
  });
}

try {
  const tsxWorker = ['--import', 'tsx', 'src/main/worker.ts'];
  await measure('baseline: tsx, bundled at start', tsxWorker, path.join(scratch, 'absent', 'workflow-bundle.js'));

  const sourceBundle = path.join(scratch, 'source', 'workflow-bundle.js');
  const t = performance.now();
  await buildWorkflowBundle(sourceBundle);
  await measure('tsx, prebuilt bundle', tsxWorker, sourceBundle, { bundle_build_ms: Math.round(performance.now() - t) });

  const dist = path.join(scratch, 'dist');
  const built = await buildCompiled(dist); // the bundle at <dist>/workflow-bundle.js
  await measure(
    'baseline: node, compiled, bundled at start (the image before)',
    [path.join(dist, 'src/main/worker.js')],
    path.join(scratch, 'absent', 'workflow-bundle.js'),
  );
  await measure(
    'node, compiled, prebuilt bundle (Docker image)',
    [path.join(dist, 'src/main/worker.js')],
    path.join(dist, 'workflow-bundle.js'),
    {
      build_tsc_ms: built.tscMs,
      build_bundle_ms: built.bundleMs,
    },
  );
} finally {
  await api.close();
  await stack.stop();
  await rm(scratch, { recursive: true, force: true });
}
