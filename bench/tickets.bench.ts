/**
 * Ticket create throughput and latency at concurrency 32, against two baselines measured in the
 * same run on the same machine:
 *   - baseline_koa_pg_insert: a bare Koa route inserting the same row (the cost floor of a write);
 *   - baseline_workflow_start: starting an empty workflow on the same Temporal server (the
 *     engine's ceiling for anything that starts a workflow per request);
 * plus update (PATCH) latency. One JSON line per figure, each with its ratios to the baselines;
 * then `engine_cost`: what a create, a change and a note cost the engine (workflow tasks, activity
 * tasks, upserts, history events), read from the histories of BENCH_COST_SAMPLE of the tickets.
 * Each throughput figure also carries where its CPU went (bench/lib/cpu.ts): milliseconds per
 * operation of this Node process (client, API and worker), the Temporal server and PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { koaBody } from 'koa-body';
import { startHttpServer } from '../src/server.js';
import { createTicketWorker } from '../src/worker.js';
import { ticketWorkflowId } from '../workflows/definitions.js';
import { cpuMeter, type CpuUse } from './lib/cpu.js';
import { load, report, round, type LoadResult } from './lib/harness.js';
import { operationCosts, summarizeCosts, type OperationCost } from './lib/history-cost.js';
import { benchStack } from './lib/stack.js';

const N = Number(process.env.BENCH_N ?? 400);
const CONCURRENCY = 32;
const COST_SAMPLE = Number(process.env.BENCH_COST_SAMPLE ?? 50);
const body = { title: 'Printer on fire in room 4.12', description: 'Smoke and a smell of toner.', priority: 'high', tags: ['printer'] };

const stack = await benchStack();
const { config, logger, db, user, token } = stack;
const { worker, connection } = await createTicketWorker({
  address: stack.temporalAddress,
  namespace: 'default',
  taskQueue: config.temporal.taskQueue,
  db,
  webhooks: config.webhooks,
});
const running = worker.run();
const api = await startHttpServer({ config, db, temporal: stack.temporal, logger }, 0, '127.0.0.1');
const apiBase = `http://127.0.0.1:${api.port}/api/v1`;

// Baseline 1: bare Koa + PostgreSQL insert of the same row (same table, same number function).
const bare = new Koa();
bare.use(koaBody());
bare.use(async (ctx) => {
  const b = ctx.request.body as typeof body;
  const [row] = await db('tickets')
    .insert({ id: randomUUID(), title: b.title, description: b.description, priority: b.priority, tags: b.tags, createdById: user.id })
    .returning('*');
  ctx.status = 201;
  ctx.body = row;
});
const bareServer = http.createServer(bare.callback());
await new Promise<void>((r) => bareServer.listen(0, '127.0.0.1', r));
const bareUrl = `http://127.0.0.1:${(bareServer.address() as AddressInfo).port}/`;

/** POST and return the status (counted by load(); 202 = accepted, the workers were slow) and the id. */
const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(payload) }).then(
    async (r) => {
      const text = await r.text();
      let id: string | undefined;
      try {
        id = (JSON.parse(text) as { id?: string }).id;
      } catch {
        // not JSON: no id
      }
      return { status: r.status, id };
    },
  );
const statusOf = async (p: Promise<{ status: number }>) => (await p).status;
const auth = { authorization: `Bearer ${token}` };

try {
  await load(50, 8, () => statusOf(post(bareUrl, body))); // warm-up
  await load(50, 8, () => statusOf(post(`${apiBase}/tickets`, body, auth)));

  const measured = async (fn: () => Promise<LoadResult>) => {
    const cpu = cpuMeter(stack.temporalPid);
    const result = await fn();
    return { result, cpu: cpu(result.n) };
  };
  const { result: insert, cpu: insertCpu } = await measured(() => load(N, CONCURRENCY, () => statusOf(post(bareUrl, body))));
  report('baseline_koa_pg_insert', { ...insert, ...insertCpu });

  const { result: start, cpu: startCpu } = await measured(() =>
    load(N, CONCURRENCY, () =>
      stack.temporal.workflow.start('benchEmptyWorkflow', { workflowId: `bench-empty-${randomUUID()}`, taskQueue: 'bench-no-worker' }),
    ),
  );
  report('baseline_workflow_start', { ...start, ...startCpu });

  const ids: string[] = [];
  const { result: create, cpu: createCpu } = await measured(() =>
    load(N, CONCURRENCY, async () => {
      const r = await post(`${apiBase}/tickets`, body, auth);
      if (r.id && (r.status === 201 || r.status === 202)) ids.push(r.id); // a 202 is accepted: its workflow writes the row shortly
      return r.status;
    }),
  );
  report('ticket_create', { ...create, ...ratios(create, insert, start), ...createCpu, ...serverShare(createCpu, startCpu) });

  let k = 0;
  const { result: update, cpu: updateCpu } = await measured(() =>
    load(N, CONCURRENCY, async () => {
      const id = ids[k++ % ids.length]!;
      const r = await fetch(`${apiBase}/tickets/${id}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', ...auth },
        body: JSON.stringify({ description: `step ${k}` }),
      });
      await r.arrayBuffer();
      return r.status;
    }),
  );
  report('ticket_update', { ...update, ...ratios(update, insert, start), ...updateCpu, ...serverShare(updateCpu, startCpu) });

  // engine cost per operation: a note on each sampled ticket (which had its create and a PATCH),
  // then their histories cut into operations
  const sample = ids.slice(0, COST_SAMPLE);
  const notes = await load(
    sample.length,
    8,
    async (i) => (await post(`${apiBase}/tickets/${sample[i]}/notes`, { content: 'cost' }, auth)).status,
  );
  const costs: OperationCost[] = [];
  for (const id of sample) {
    const history = await stack.temporal.workflow.getHandle(ticketWorkflowId(id)).fetchHistory();
    costs.push(...operationCosts(history.events ?? []));
  }
  report('engine_cost', { source: 'tickets', tickets: sample.length, note_statuses: notes.statuses, per_operation: summarizeCosts(costs) });
} finally {
  await new Promise((r) => bareServer.close(r));
  await api.close();
  worker.shutdown();
  await running;
  await connection.close();
  await stack.stop();
}

/**
 * The Temporal server's CPU per operation in empty starts' worth: were the server's CPU the only
 * limit, the operation could run at most at 1/this times the empty start's rate.
 */
function serverShare(op: CpuUse, start: CpuUse) {
  const server = op.cpu_ms_per_op.temporal;
  const perStart = start.cpu_ms_per_op.temporal;
  return server && perStart ? { temporal_cpu_vs_workflow_start: round(server / perStart, 2) } : {};
}

function ratios(x: LoadResult, insert: LoadResult, start: LoadResult) {
  return {
    throughput_vs_insert: round(x.per_second / insert.per_second, 3),
    throughput_vs_workflow_start: round(x.per_second / start.per_second, 3),
    p50_vs_insert: round(x.p50_ms / insert.p50_ms, 1),
    p50_vs_workflow_start: round(x.p50_ms / start.p50_ms, 1),
  };
}
