/**
 * SLA signals after a worker outage (issue 18): BENCH_RECOVERY_N (50) open tickets whose assign
 * deadlines fall inside one 10 s window while their worker is dead. The worker runs as its own
 * process (`start:worker`'s command) and is SIGKILLed — a crash, not a drain — a few seconds before
 * the window; a new one is spawned BENCH_RECOVERY_DOWN_AFTER_S (5) seconds after the window's last
 * deadline. Reported per breach, from when PostgreSQL announced its committed event (LISTEN, as the
 * SSE hub sees it):
 *   - after_ready: announced − the new worker's 'worker running' line (the issue's "after the worker came back");
 *   - after_spawn: announced − the spawn (its start-up included);
 * with duplicates and missing (both must be 0), and where the time went (p50 from the histories:
 * the workflow task after the timer started and completed, the write's activity started and
 * completed). The worker loads a prebuilt workflow bundle, as after `npm run build` (the image);
 * BENCH_RECOVERY_PREBUILT=0 bundles at each start instead; BENCH_RECOVERY_COMPILED=1 runs it as the
 * image does (compiled JavaScript, plain node). BENCH_RECOVERY_ROUNDS (1) repeats it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { matchSlaTerms } from '../src/commands/sla/rules.js';
import { EVENTS_CHANNEL } from '../src/events/store.js';
import { Event, SlaPolicy, Ticket } from '../src/models/index.js';
import { buildWorkflowBundle } from '../src/temporal/workflow-bundle.js';
import { ticketWorkflowId } from '../workflows/definitions.js';
import { startBackdatedTicket } from './lib/backdated.js';
import { buildCompiled } from './lib/build.js';
import { load, percentile, report, round } from './lib/harness.js';
import { eventMs } from './lib/history-cost.js';
import { benchStack } from './lib/stack.js';

const N = Number(process.env.BENCH_RECOVERY_N ?? 50);
const ROUNDS = Number(process.env.BENCH_RECOVERY_ROUNDS ?? 1);
const DOWN_AFTER_MS = Number(process.env.BENCH_RECOVERY_DOWN_AFTER_S ?? 5) * 1000;
const WINDOW_MS = 10_000;
const TARGET_S = 600;
const repo = path.resolve(import.meta.dirname, '..');
const PREBUILT = process.env.BENCH_RECOVERY_PREBUILT !== '0';
/** the image's way: compiled JavaScript under plain node (built here first, as `npm run build` does) */
const COMPILED = process.env.BENCH_RECOVERY_COMPILED === '1';
// inside node_modules, as bench/worker-start.bench.ts does (compiled entries resolve this checkout's
// packages); an absent bundle file makes the worker bundle at start
const scratchDir = await mkdtemp(path.join(repo, 'node_modules', '.cache-servicemeow-bench-'));
const dist = path.join(scratchDir, 'dist');
const bundlePath = !PREBUILT
  ? path.join(scratchDir, 'absent.js')
  : COMPILED
    ? path.join(dist, 'workflow-bundle.js')
    : path.join(scratchDir, 'workflow-bundle.js');
if (COMPILED)
  await buildCompiled(dist, PREBUILT); // the bundle, if any, at <dist>/workflow-bundle.js
else if (PREBUILT) await buildWorkflowBundle(bundlePath);
const workerCommand = COMPILED
  ? ['--max-old-space-size=512', path.join(dist, 'src/main/worker.js')]
  : ['--max-old-space-size=512', '--import', 'tsx', 'src/main/worker.ts'];

const stack = await benchStack({ LOG_LEVEL: 'info' });
const { db, temporal, config, user } = stack;
await SlaPolicy.query(db)
  .patch({ assignTargetSeconds: TARGET_S, resolveTargetSeconds: 86_400, atRiskPercent: 50 } as Partial<SlaPolicy>)
  .where({ priority: 'critical' });
const slaTerms = await matchSlaTerms(db, { priority: 'critical', groupId: null, category: null, tags: [] });
// every committed event is announced with its seq: note when each announcement arrives
const arrivals = new Map<number, number>();
const listener = new pg.Client({ connectionString: stack.env.DATABASE_URL });
await listener.connect();
listener.on('notification', (n) => arrivals.set(Number(n.payload), Date.now()));
await listener.query(`LISTEN ${EVENTS_CHANNEL}`);

/** Spawn the worker as production does; resolves once it polls, with the spawn and ready instants (epoch ms). */
async function spawnWorker(): Promise<{ child: ChildProcess; spawnedAt: number; readyAt: number }> {
  const spawnedAt = Date.now();
  const child = spawn(process.execPath, workerCommand, {
    cwd: repo,
    env: { ...process.env, ...stack.env, LOG_LEVEL: 'info', WORKFLOW_BUNDLE_PATH: bundlePath },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const readyAt = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      if (out.length < 100_000) out += c.toString();
      if (out.includes('worker running')) resolve(Date.now());
    });
    child.once('exit', (code) => reject(new Error(`worker exited ${code}: ${out}`)));
  });
  child.stdout!.resume();
  return { child, spawnedAt, readyAt };
}

const crash = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });

const waitFor = async (what: () => Promise<boolean>, limitMs: number) => {
  const until = Date.now() + limitMs;
  while (!(await what())) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
  return true;
};

const eventsOf = (type: string, ids: string[]) => Event.query(db).where({ type }).whereIn('ticketId', ids);

let worker = await spawnWorker();
try {
  for (let round_ = 1; round_ <= ROUNDS; round_++) {
    // the window opens once creation (worker up) is surely done: 20 s from now
    const windowStart = Date.now() + 20_000;
    const ids = Array.from({ length: N }, () => randomUUID());
    const dueOf = (i: number) => windowStart + Math.floor((i / N) * WINDOW_MS);
    const creation = await load(N, 16, (i) =>
      startBackdatedTicket(temporal, config.temporal.taskQueue, {
        id: ids[i]!,
        title: `Outage ${round_}.${i}`,
        userId: user.id,
        dueAt: dueOf(i),
        targetSeconds: TARGET_S,
        slaTerms,
      }),
    );
    // rows written and the at-risk signals (past at creation) recorded: only the breaches remain
    const settled = await waitFor(
      async () =>
        (await Ticket.query(db).whereIn('id', ids).resultSize()) >= N && (await eventsOf('ticket.sla_at_risk', ids).resultSize()) >= N,
      15_000,
    );
    if (!settled) throw new Error('creation did not settle before the window');
    const slack = windowStart - Date.now();
    await new Promise((r) => setTimeout(r, Math.max(0, slack - 2_000)));
    await crash(worker.child);
    const killedAt = Date.now();

    // every deadline passes while no worker runs; then a new one starts
    await new Promise((r) => setTimeout(r, windowStart + WINDOW_MS + DOWN_AFTER_MS - Date.now()));
    const firedWhileDown = await eventsOf('ticket.sla_breached', ids).resultSize();
    worker = await spawnWorker();

    await waitFor(async () => (await eventsOf('ticket.sla_breached', ids).resultSize()) >= N, 120_000);
    await new Promise((r) => setTimeout(r, 3_000)); // a duplicate, if any, would land by now
    const breaches = await eventsOf('ticket.sla_breached', ids);
    const perTicket = new Map<string, number>();
    for (const e of breaches) perTicket.set(e.ticketId!, (perTicket.get(e.ticketId!) ?? 0) + 1);
    const after = (from: number) => {
      const xs = breaches.map((e) => (arrivals.get(Number(e.seq)) ?? NaN) - from).sort((a, b) => a - b);
      return {
        min_ms: xs[0] ?? null,
        p50_ms: round(percentile(xs, 50)),
        p99_ms: round(percentile(xs, 99)),
        max_ms: xs[xs.length - 1] ?? null,
      };
    };
    // where the time after the start went, from each history's events after the timer fired
    const steps: Record<string, number[]> = { wft_started: [], activity_started: [], activity_completed: [], wft_completed: [] };
    for (const id of ids) {
      const events = (await temporal.workflow.getHandle(ticketWorkflowId(id)).fetchHistory()).events ?? [];
      const fired = events.findIndex((e) => e.timerFiredEventAttributes && eventMs(e) >= windowStart - 1_000);
      const after = (pick: (e: (typeof events)[number]) => unknown) => {
        const e = events.slice(fired).find((x) => pick(x) && eventMs(x) >= worker.readyAt - 1_000);
        return e ? eventMs(e) - worker.readyAt : NaN;
      };
      steps.wft_started!.push(after((e) => e.workflowTaskStartedEventAttributes));
      steps.activity_started!.push(after((e) => e.activityTaskStartedEventAttributes));
      steps.activity_completed!.push(after((e) => e.activityTaskCompletedEventAttributes));
      steps.wft_completed!.push(after((e) => e.workflowTaskCompletedEventAttributes));
    }
    const p50s = Object.fromEntries(
      Object.entries(steps).map(([k, xs]) => {
        const sorted = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
        return [k, { p50_ms: round(percentile(sorted, 50)), max_ms: sorted.at(-1) ?? null }];
      }),
    );
    report('sla_recovery_after_worker_crash', {
      round: round_,
      tickets: N,
      creation_errors: creation.errors ?? 0,
      killed_before_window_ms: windowStart - killedAt,
      down_after_last_deadline_s: DOWN_AFTER_MS / 1000,
      outage_s: round((worker.readyAt - killedAt) / 1000, 1),
      fired_while_down: firedWhileDown,
      worker_startup_ms: worker.readyAt - worker.spawnedAt,
      prebuilt_bundle: PREBUILT,
      worker: COMPILED ? 'node, compiled' : 'tsx',
      breaches: breaches.length,
      announced: breaches.filter((e) => arrivals.has(Number(e.seq))).length,
      duplicates: [...perTicket.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0),
      missing: ids.filter((id) => !perTicket.has(id)).length,
      after_ready: after(worker.readyAt),
      after_spawn: after(worker.spawnedAt),
      history_after_ready: p50s,
      load_average_1m: round(os.loadavg()[0]!, 1),
    });
  }
} finally {
  await crash(worker.child).catch(() => undefined);
  await listener.end();
  await rm(scratchDir, { recursive: true, force: true });
  await stack.stop();
}
