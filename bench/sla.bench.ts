/**
 * SLA breach lateness: BENCH_SLA_N (default 2,000) open tickets whose assign deadlines fall inside
 * one 10 s window, each fired by its own workflow timer. Reports p50/p99/max of lateness two ways:
 *   - recorded: the event's timestamp (the workflow's clock when it fired) − due_at;
 *   - visible: when PostgreSQL announced the committed event (LISTEN, as the SSE hub sees it) − due_at;
 * and the number of duplicate and missing breaches (must both be 0); then `engine_cost`: what a
 * create (its at-risk signal already due, so written inside it) and a breach signal cost the
 * engine, read from the histories of BENCH_COST_SAMPLE of the tickets, and `sla_breach_lateness_parts`: the
 * breach's lateness taken apart from the same histories (the timer's origin, its start, the server's firing,
 * the dispatch of the task that writes it).
 *
 * BENCH_MAX_CACHED_WORKFLOWS sets the worker's workflow cache (default: the product's 500): a burst of more
 * deadlines than it holds replays each evicted ticket from its history.
 *
 * BENCH_SLA_LEVELS=1 runs the same with issue 21's policy options on: three warning levels on
 * the assign metric (50 % and 75 %, already past at creation, and 1 minute before the deadline,
 * inside the run) and explicit pause statuses; it then also counts every level's event per ticket
 * (`sla_warning_levels`: duplicates and missing must be 0). The levels come from a conditional SLA
 * rule (category `bench`, tag `burst`) in front of the default policy, and each ticket carries the
 * terms the rule matcher picks for it, as `POST /tickets` does: conditions and levels on together.
 *
 * To put thousands of deadlines in one window without waiting for thousands of seconds, the
 * tickets are created with a back-dated creation instant (the create input's `requestedAt`): the
 * clock then runs from that instant, exactly as if they had been created earlier.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { ensureSlaPolicies } from '../src/commands/seed.js';
import { matchSlaTerms } from '../src/commands/sla/rules.js';
import { loadConfig } from '../src/config/env.js';
import { createDb, migrateLatest } from '../src/db/index.js';
import { EVENTS_CHANNEL } from '../src/events/store.js';
import { createLogger } from '../src/logger.js';
import { Event, SlaPolicy, Ticket, User } from '../src/models/index.js';
import { connectTemporal } from '../src/temporal/client.js';
import { installTemporalRuntime } from '../src/temporal/runtime.js';
import { createTicketWorker } from '../src/worker.js';
import { ticketWorkflowId } from '../workflows/definitions.js';
import { startBackdatedTicket } from './lib/backdated.js';
import { startBenchTemporal } from './lib/engine.js';
import { load, percentile, report, round, scratchDatabase } from './lib/harness.js';
import { firstTimerTimeline, operationCosts, summarizeCosts, type OperationCost } from './lib/history-cost.js';

const N = Number(process.env.BENCH_SLA_N ?? 2_000);
const WINDOW_MS = 10_000;
/** time from the start of the run to the window: creation must finish before it */
const LEAD_MS = Number(process.env.BENCH_SLA_LEAD_S ?? 180) * 1000;
const TARGET_S = 600;
const LEVELS = process.env.BENCH_SLA_LEVELS === '1';
const ASSIGN_LEVELS = [{ percent: 50 }, { percent: 75 }, { minutes_before: 1 }];

const scratch = await scratchDatabase();
const temporalServer = await startBenchTemporal(scratch);
const config = loadConfig({ DATABASE_URL: scratch.url, TEMPORAL_ADDRESS: temporalServer.address, LOG_LEVEL: 'silent' });
installTemporalRuntime(createLogger('silent'));
const db = createDb(scratch.url, { min: 2, max: 20 });
await migrateLatest(db);
await ensureSlaPolicies(db, config);
// at-risk at 50 %: already past when each ticket is created, so those signals fire during creation
// and the window holds the breaches alone
await SlaPolicy.query(db)
  .patch({ assignTargetSeconds: TARGET_S, resolveTargetSeconds: 86_400, atRiskPercent: 50 } as Partial<SlaPolicy>)
  .where({ priority: 'critical' });
const TICKET_FIELDS = LEVELS ? { category: 'bench', tags: ['burst'] } : { category: null, tags: [] };
if (LEVELS) {
  // the same targets from a rule the tickets match by category and tag, with the levels on
  await db('sla_rules').insert({
    name: 'Bench burst',
    position: 1,
    conditions: JSON.stringify({ categories: ['bench'], tags_any: ['burst'] }),
    targets: JSON.stringify({ critical: { assign_target_seconds: TARGET_S, resolve_target_seconds: 86_400 } }),
    at_risk_percent: 50,
    warning_levels: JSON.stringify({ assign: ASSIGN_LEVELS, resolve: [{ percent: 50 }] }),
    pause_statuses: JSON.stringify({ assign: ['paused', 'waiting_on_customer'], resolve: ['paused', 'waiting_on_customer'] }),
  });
}
const slaTerms = await matchSlaTerms(db, { priority: 'critical', groupId: null, ...TICKET_FIELDS });
if (LEVELS && slaTerms?.policy?.ruleId == null) throw new Error('the bench tickets did not match the bench rule');
const user = await User.query(db)
  .insert({
    username: 'bench',
    email: 'bench@example.test',
    fullName: 'Bench',
    role: 'admin',
    isActive: true,
    passwordHash: 'x',
  } as Partial<User>)
  .returning('*');
const temporal = await connectTemporal(temporalServer.address, 'default');
const { worker, connection } = await createTicketWorker({
  address: temporalServer.address,
  namespace: 'default',
  taskQueue: config.temporal.taskQueue,
  db,
  webhooks: config.webhooks,
  // BENCH_MAX_CACHED_WORKFLOWS: the worker's workflow cache (default: the product's), to see a burst larger than it
  ...(process.env.BENCH_MAX_CACHED_WORKFLOWS ? { maxCachedWorkflows: Number(process.env.BENCH_MAX_CACHED_WORKFLOWS) } : {}),
});
const running = worker.run();

// Every committed event is announced with its seq; note when each announcement arrives.
const arrivals = new Map<number, number>();
const listener = new pg.Client({ connectionString: scratch.url });
await listener.connect();
listener.on('notification', (n) => arrivals.set(Number(n.payload), Date.now()));
await listener.query(`LISTEN ${EVENTS_CHANNEL}`);

const windowStart = Date.now() + LEAD_MS;
const ids = Array.from({ length: N }, () => randomUUID());
const dueOf = (i: number) => windowStart + Math.floor((i / N) * WINDOW_MS);
const creation = await load(N, 32, (i) =>
  startBackdatedTicket(temporal.client, config.temporal.taskQueue, {
    id: ids[i]!,
    title: `Breach ${i}`,
    userId: user.id,
    dueAt: dueOf(i),
    targetSeconds: TARGET_S,
    slaTerms,
    ...TICKET_FIELDS,
  }),
);
// all rows written (each workflow's first task) before the first at-risk signal is due?
for (;;) {
  const rows = await Ticket.query(db).resultSize();
  if (rows >= N) break;
  await new Promise((r) => setTimeout(r, 500));
}
const readyMs = windowStart - Date.now();

// wait for the window and a grace period for stragglers
const deadline = windowStart + WINDOW_MS + Number(process.env.BENCH_SLA_GRACE_S ?? 300) * 1000; // 'missing' = not fired even by then
// (count only: this process also runs the worker, so the wait must stay light)
for (;;) {
  const count = await Event.query(db).where({ type: 'ticket.sla_breached' }).resultSize();
  if (count >= N || Date.now() > deadline) break;
  await new Promise((r) => setTimeout(r, 1_000));
}
await new Promise((r) => setTimeout(r, 3_000)); // duplicates, if any, would land by now
const breaches = await Event.query(db).where({ type: 'ticket.sla_breached' });

const perTicket = new Map<string, number>();
for (const e of breaches) perTicket.set(e.ticketId!, (perTicket.get(e.ticketId!) ?? 0) + 1);
const duplicates = [...perTicket.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0);
const missing = ids.filter((id) => !perTicket.has(id)).length;
const dueAt = (e: Event) => Date.parse((e.payload.data.sla as { due_at: string }).due_at);
const recorded = breaches.map((e) => e.createdAt.getTime() - dueAt(e)).sort((a, b) => a - b);
const visible = breaches
  .filter((e) => arrivals.has(Number(e.seq)))
  .map((e) => arrivals.get(Number(e.seq))! - dueAt(e))
  .sort((a, b) => a - b);
const stats = (xs: number[]) => ({
  p50_ms: round(percentile(xs, 50)),
  p99_ms: round(percentile(xs, 99)),
  max_ms: round(xs[xs.length - 1] ?? NaN),
});

report('sla_breach_lateness', {
  tickets: N,
  window_s: WINDOW_MS / 1000,
  creation_per_second: creation.per_second,
  creation_errors: creation.errors ?? 0,
  ready_before_window_s: round(readyMs / 1000, 1),
  breaches: breaches.length,
  duplicates,
  missing,
  recorded: stats(recorded),
  visible: { ...stats(visible), announced: visible.length },
});

if (LEVELS) {
  // every assign level once per ticket: the two already past at creation and the one a minute before
  const warnings = await Event.query(db).where({ type: 'ticket.sla_at_risk' });
  const seen = new Map<string, number>();
  for (const e of warnings) {
    const sla = e.payload.data.sla as { metric: string; level?: unknown };
    if (sla.metric !== 'assign') continue;
    const key = `${e.ticketId}|${JSON.stringify(sla.level)}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  const expected = ids.flatMap((id) => ASSIGN_LEVELS.map((l) => `${id}|${JSON.stringify(l)}`));
  report('sla_warning_levels', {
    tickets: N,
    levels_per_ticket: ASSIGN_LEVELS.length,
    warnings: [...seen.values()].reduce((a, b) => a + b, 0),
    duplicates: [...seen.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0),
    missing: expected.filter((k) => !seen.has(k)).length,
  });
}

const costs: OperationCost[] = [];
// The breach timer is each ticket's first (its at-risk signal was written inside the create): its
// lateness taken apart from the history — the task that started it, the server's firing, the task
// that handled it — against the deadline the breach event states.
const dueByTicket = new Map(breaches.map((e) => [e.ticketId!, dueAt(e)]));
const parts = {
  origin_offset: [] as number[],
  timer_start_delay: [] as number[],
  server_fire_delay: [] as number[],
  dispatch: [] as number[],
  total: [] as number[],
};
for (const id of ids.slice(0, Number(process.env.BENCH_COST_SAMPLE ?? 50))) {
  const events = (await temporal.client.workflow.getHandle(ticketWorkflowId(id)).fetchHistory()).events ?? [];
  costs.push(...operationCosts(events));
  const t = firstTimerTimeline(events);
  const due = dueByTicket.get(id);
  if (!t || due === undefined) continue;
  // < 0: the duration was computed from a workflow clock later than its task's start
  parts.origin_offset.push(t.taskStarted + t.durationMs - due);
  parts.timer_start_delay.push(t.taskCompleted - t.taskStarted);
  parts.server_fire_delay.push(t.fired - (t.taskCompleted + t.durationMs));
  parts.dispatch.push(t.nextTaskStarted - t.fired);
  parts.total.push(t.nextTaskStarted - due);
}
report('engine_cost', {
  source: 'sla',
  tickets: Math.min(ids.length, Number(process.env.BENCH_COST_SAMPLE ?? 50)),
  per_operation: summarizeCosts(costs),
});
report('sla_breach_lateness_parts', {
  tickets: parts.total.length,
  ...Object.fromEntries(Object.entries(parts).map(([k, xs]) => [k, stats(xs.sort((a, b) => a - b))])),
});

await listener.end();
worker.shutdown();
await running;
await connection.close();
await temporal.close();
await db.destroy();
await temporalServer.stop();
await scratch.drop();
