/**
 * Webhook delivery with 20 endpoints subscribed to every event (one local receiver, 20 paths):
 *   - webhook_first_attempt: time from an event (its timestamp: when the API accepted the change)
 *     to its first attempt reaching each endpoint, with tickets created at a steady pace;
 *   - webhook_throughput: deliveries per second while a burst of tickets fans out 20-fold;
 * against baselines measured in the same run: the same signed POSTs sent straight from this
 * process (the HTTP floor, no Temporal), and starting an empty workflow (the engine's ceiling for
 * anything that starts a workflow per delivery).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Webhook } from '../src/models/index.js';
import { startHttpServer } from '../src/server.js';
import { sendAttempt } from '../src/webhooks/send.js';
import { generateSecret, signedHeaders } from '../src/webhooks/signing.js';
import { createTicketWorker } from '../src/worker.js';
import { load, percentile, report, round } from './lib/harness.js';
import { benchStack } from './lib/stack.js';

const ENDPOINTS = 20;
const PACED_TICKETS = Number(process.env.BENCH_WEBHOOK_PACED ?? 30);
const PACE_MS = Number(process.env.BENCH_WEBHOOK_PACE_MS ?? 500);
const BURST_TICKETS = Number(process.env.BENCH_WEBHOOK_BURST ?? 50);

const stack = await benchStack();
const { config, logger, db, token } = stack;
const { worker, connection } = await createTicketWorker({
  address: stack.temporalAddress,
  namespace: 'default',
  taskQueue: config.temporal.taskQueue,
  db,
  webhooks: { ...config.webhooks, allowPrivateNetworks: true },
});
const running = worker.run();
const api = await startHttpServer({ config, db, temporal: stack.temporal, logger }, 0, '127.0.0.1');
const apiBase = `http://127.0.0.1:${api.port}/api/v1`;

// The receiver: arrival time of every (event, endpoint), first arrival only.
const arrivals = new Map<string, number>();
let received = 0;
const receiver = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    received++;
    const key = `${req.headers['webhook-id']}|${req.url}`;
    if (!arrivals.has(key)) arrivals.set(key, Date.now());
    res.writeHead(204).end();
  });
});
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
const receiverBase = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
await Webhook.query(db).insert(
  Array.from({ length: ENDPOINTS }, (_, i) => ({
    url: `${receiverBase}/ep/${i}`,
    eventTypes: ['ticket.created'],
    secret: generateSecret(),
  })) as Partial<Webhook>[],
);

const createTicket = async (): Promise<{ eventId: string; acceptedAt: number }> => {
  const r = await fetch(`${apiBase}/tickets`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ title: 'Printer on fire', priority: 'low' }),
  });
  if (r.status !== 201 && r.status !== 202) throw new Error(`POST /tickets ${r.status} ${await r.text()}`); // counted by the caller
  const { id } = (await r.json()) as { id: string };
  // a 202 (accepted, the workers were slow) gets its event once its workflow writes it
  let event: { id: string; createdAt: Date } | undefined;
  for (const until = Date.now() + 120_000; !event && Date.now() < until; await sleep(event ? 0 : 100)) {
    event = await db('events').where({ ticketId: id, type: 'ticket.created' }).first('id', 'createdAt');
  }
  if (!event) throw new Error(`ticket ${id} (${r.status}) wrote no ticket.created event within 120 s`);
  return { eventId: event.id as string, acceptedAt: (event.createdAt as Date).getTime() };
};
const allArrived = async (events: { eventId: string }[], timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  const missing = () =>
    events.flatMap((e) => Array.from({ length: ENDPOINTS }, (_, i) => `${e.eventId}|/ep/${i}`)).filter((k) => !arrivals.has(k));
  while (missing().length && Date.now() < deadline) await sleep(50);
  return missing().length;
};

try {
  // Baseline 1: the same signed POSTs straight from here, 20 at a time.
  const secret = generateSecret();
  const body = JSON.stringify({ id: 'evt_baseline', type: 'ticket.created', timestamp: new Date().toISOString(), data: {} });
  const direct = await load(1000, ENDPOINTS, async (i) => {
    const r = await sendAttempt(
      `${receiverBase}/baseline/${i % ENDPOINTS}`,
      { ...signedHeaders(secret, `evt_b${i}`, Date.now() / 1000, body) },
      body,
      { allowPrivateNetworks: true },
    );
    if (r.status !== 204) throw new Error(`baseline POST ${r.status} ${r.error}`);
  });
  report('baseline_direct_signed_post', { ...direct });

  // Baseline 2: an empty workflow start on the same server.
  const starts = await load(400, 32, () =>
    stack.temporal.workflow.start('benchEmptyWorkflow', { workflowId: `bench-empty-${randomUUID()}`, taskQueue: 'bench-no-worker' }),
  );
  report('baseline_workflow_start', { ...starts });

  // Warm-up, then tickets at a steady pace: event → first attempt at each of the 20 endpoints.
  await allArrived([await createTicket()], 30_000);
  const paced: { eventId: string; acceptedAt: number }[] = [];
  let pacedFailures = 0; // counted and reported, never fatal
  for (let i = 0; i < PACED_TICKETS; i++) {
    const t = Date.now();
    await createTicket().then(
      (e) => paced.push(e),
      () => pacedFailures++,
    );
    await sleep(Math.max(0, PACE_MS - (Date.now() - t)));
  }
  const pacedMissing = await allArrived(paced, 60_000);
  const lags = paced
    .flatMap((e) => Array.from({ length: ENDPOINTS }, (_, i) => arrivals.get(`${e.eventId}|/ep/${i}`)! - e.acceptedAt))
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  report('webhook_first_attempt', {
    endpoints: ENDPOINTS,
    tickets: PACED_TICKETS,
    pace_ms: PACE_MS,
    deliveries: lags.length,
    missing: pacedMissing,
    create_failures: pacedFailures,
    p50_ms: round(percentile(lags, 50)),
    p99_ms: round(percentile(lags, 99)),
    max_ms: round(lags.at(-1)!),
    under_2s: round(lags.filter((l) => l < 2000).length / lags.length, 3),
  });

  // A burst: tickets created 8 at a time, each fanning out to 20 endpoints.
  const burstStarted = Date.now();
  const burst: { eventId: string; acceptedAt: number }[] = [];
  const burstLoad = await load(BURST_TICKETS, 8, async () => burst.push(await createTicket()));
  const burstMissing = await allArrived(burst, 300_000);
  const keys = burst.flatMap((e) => Array.from({ length: ENDPOINTS }, (_, i) => `${e.eventId}|/ep/${i}`));
  const lastArrival = Math.max(...keys.map((k) => arrivals.get(k) ?? 0));
  const burstLags = burst
    .flatMap((e) => Array.from({ length: ENDPOINTS }, (_, i) => arrivals.get(`${e.eventId}|/ep/${i}`)! - e.acceptedAt))
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  const seconds = (lastArrival - burstStarted) / 1000;
  const duplicates = received - arrivals.size;
  report('webhook_throughput', {
    endpoints: ENDPOINTS,
    tickets: BURST_TICKETS,
    deliveries: keys.length - burstMissing,
    missing: burstMissing,
    create_failures: burstLoad.errors ?? 0,
    seconds: round(seconds, 1),
    deliveries_per_second: round((keys.length - burstMissing) / seconds, 1),
    first_attempt_p50_ms: round(percentile(burstLags, 50)),
    first_attempt_p99_ms: round(percentile(burstLags, 99)),
    duplicate_requests: duplicates,
    vs_direct_post: round((keys.length - burstMissing) / seconds / direct.per_second, 3),
    vs_workflow_start: round((keys.length - burstMissing) / seconds / starts.per_second, 3),
  });
} finally {
  await api.close();
  worker.shutdown();
  await running;
  await connection.close();
  await new Promise((r) => receiver.close(r));
  await stack.stop();
}
