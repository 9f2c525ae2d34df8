/**
 * The product on the production engine: Temporal server (deploy/temporal/version.env) on
 * PostgreSQL with compose's dynamic config, started by src/dev/temporal-postgres.ts on databases of
 * this file's own, and the production processes (`start:api`, `start:worker`) against it:
 *   1. tickets are created, updated, paused and resolved; an SLA breach fires; a webhook is
 *      delivered and verifies with the standardwebhooks library;
 *   2. the worker is SIGKILLed mid-load and restarted: every accepted create exists exactly once;
 *   3. the Temporal server itself is restarted mid-load: every accepted create has exactly one row
 *      and one workflow, and clients that got no answer retry with their Idempotency-Keys.
 * Skips outside CI when neither the binaries nor Go are present; in CI it fails instead.
 */
import { freePort } from '../../src/dev/ports.js';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { createDb, type Db } from '../../src/db/index.js';
import { AuditLog, Event, Ticket } from '../../src/models/index.js';
import { connectTemporal, type TemporalHandle } from '../../src/temporal/client.js';
import { ticketWorkflowId } from '../../workflows/definitions.js';
import { engineUnavailable, startTestEngine, type TestEngine } from '../helpers/engine.js';
import { eventually } from '../helpers/eventually.js';
import { createUser, ensureSlaPolicies, login } from '../helpers/factories.js';
import { call } from '../helpers/harness.js';
import { kill, launch } from '../helpers/processes.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { scratchDatabase, type ScratchDatabase } from '../helpers/scratch.js';

const unavailable = await engineUnavailable();
const skip = Boolean(unavailable) && process.env.CI !== 'true';
if (skip) console.warn(`production-engine.test.ts skipped: ${unavailable}`);

describe.skipIf(skip)('the product on Temporal server with PostgreSQL', () => {
  let engine: TestEngine;
  let scratch: ScratchDatabase;
  let db: Db;
  let temporal: TemporalHandle;
  let client: Client;
  let receiver: Receiver;
  let env: Record<string, string>;
  let base: { baseUrl: string };
  let token: string;
  let worker: ReturnType<typeof launch>;
  let api: ReturnType<typeof launch>;

  beforeAll(async () => {
    const started = Date.now();
    if (unavailable) throw new Error(`the production engine cannot run in CI: ${unavailable}`);
    [engine, scratch, receiver] = await Promise.all([startTestEngine(), scratchDatabase('engine'), startReceiver()]);
    db = createDb(scratch.url, { min: 0, max: 4 });
    await ensureSlaPolicies(db);
    temporal = await connectTemporal(engine.address, engine.namespace);
    client = temporal.client;
    const port = await freePort();
    env = {
      DATABASE_URL: scratch.url,
      TEMPORAL_ADDRESS: engine.address,
      TEMPORAL_NAMESPACE: engine.namespace,
      TEMPORAL_TASK_QUEUE: 'tickets',
      JWT_SECRET: 'engine-test-secret-long-enough',
      RATE_LIMIT_PER_MINUTE: '100000',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      WEBHOOK_RETRY_SCHEDULE: '0s,1s,1s,1s,1s',
      LOG_LEVEL: 'info', // readiness is read from the log lines
      NODE_ENV: 'test',
      PORT: String(port),
    };
    worker = launch('src/main/worker.ts', env);
    api = launch('src/main/api.ts', env);
    await Promise.all([worker.ready, api.ready]);
    base = { baseUrl: `http://127.0.0.1:${port}` };
    const admin = await createUser(db, { role: 'admin' });
    token = await login(base, admin.username);
    console.info(`production engine, API and worker ready in ${Date.now() - started} ms (engine ${engine.address})`);
  }, 300_000);

  afterAll(async () => {
    if (api) await kill(api.child);
    if (worker) await kill(worker.child);
    await temporal?.close();
    await db?.destroy();
    await receiver?.close();
    await engine?.destroy();
    await scratch?.drop();
  }, 60_000);

  const create = (title: string, opts: { key?: string; priority?: string; tags?: string[] } = {}) =>
    call(base, 'POST', '/api/v1/tickets', {
      token,
      body: { title, priority: opts.priority ?? 'low', tags: opts.tags ?? [] },
      headers: opts.key ? { 'idempotency-key': opts.key } : {},
    }).catch(() => null); // no answer (a process restarting): the client retries with its key
  /** each test starts with a running worker, whatever the one before it left behind */
  const ensureWorker = async () => {
    if (worker.child.exitCode === null && worker.child.signalCode === null) return;
    worker = launch('src/main/worker.ts', env);
    await worker.ready;
  };
  const patch = (id: string, body: unknown) => call(base, 'PATCH', `/api/v1/tickets/${id}`, { token, body });

  it('creates, updates, pauses and resolves tickets; an SLA breach fires and its webhook is delivered, verifiably signed', async () => {
    const policy = await call(base, 'PUT', '/api/v1/sla-policies/critical', {
      token,
      body: { assign_target_seconds: 2, resolve_target_seconds: 3_600 },
    });
    expect(policy.status).toBe(200);
    const hook = await call(base, 'POST', '/api/v1/webhooks', {
      token,
      body: { url: receiver.url, event_types: ['ticket.created', 'ticket.sla_breached'] },
    });
    expect(hook.status).toBe(201);

    const created = await create('Printer on fire', { priority: 'critical' });
    expect(created?.status).toBe(201);
    const id = created!.body.id as string;
    expect(created!.body.sla.assign.target_seconds).toBe(2);
    expect((await client.workflow.getHandle(ticketWorkflowId(id)).describe()).status.name).toBe('RUNNING');

    const updated = await patch(id, { title: 'Printer on fire, room 4.12' });
    expect(updated.status).toBe(200);
    expect(updated.body.title).toBe('Printer on fire, room 4.12');
    expect(updated.body.version).toBeGreaterThan(created!.body.version); // the SLA clock may have changed it too

    // the assign target passes with nobody assigned: the workflow's timer fires the breach
    const breach = await eventually(async () => Event.query(db).findOne({ ticketId: id, type: 'ticket.sla_breached' }), 120_000);
    const delivered = await eventually(
      async () => receiver.received.find((r) => JSON.parse(r.body).type === 'ticket.sla_breached'),
      120_000,
    );
    const verified = new StandardWebhook(hook.body.secret).verify(delivered.body, delivered.headers) as {
      id: string;
      data: { ticket: { id: string } };
    };
    expect(verified).toMatchObject({ id: breach.id, data: { ticket: { id } } });
    expect(receiver.received.some((r) => JSON.parse(r.body).type === 'ticket.created')).toBe(true);

    const paused = await patch(id, { status: 'paused' });
    expect(paused.status).toBe(200);
    expect(paused.body.status).toBe('paused');
    const resolved = await patch(id, { status: 'resolved' });
    expect(resolved.status).toBe(200);
    expect(resolved.body.version).toBeGreaterThan(paused.body.version);
    const row = await Ticket.query(db).findById(id);
    expect(row).toMatchObject({ status: 'resolved', slaBreached: true, version: resolved.body.version });
    expect(await client.workflow.getHandle(ticketWorkflowId(id)).query('state')).toMatchObject({
      status: 'resolved',
      version: resolved.body.version,
    });
  }, 240_000);

  it('loses nothing when the worker is SIGKILLed mid-load and restarted', async () => {
    await ensureWorker();
    const run = `wkill-${Date.now()}`;
    const send = (i: number) => create(`${run} ${i}`, { key: `${run}-${i}`, tags: [run] });
    const wave1 = Promise.all(Array.from({ length: 8 }, (_, i) => send(i)));
    await eventually(async () => (await Ticket.query(db).whereRaw('tags @> ARRAY[?]::text[]', [run]).resultSize()) >= 2, 120_000, 50);
    await kill(worker.child);
    const wave2 = Promise.all(Array.from({ length: 4 }, (_, i) => send(8 + i)));
    const answers = [...(await wave1), ...(await wave2)];
    // durable once started: 201, or 202 when no worker answered in time
    expect(answers.map((r) => r?.status).every((s) => s === 201 || s === 202)).toBe(true);

    worker = launch('src/main/worker.ts', env);
    await worker.ready;
    const ids = answers.map((r) => r!.body.id as string);
    expect(new Set(ids).size).toBe(12);
    await eventually(async () => (await Ticket.query(db).whereIn('id', ids).resultSize()) === 12, 120_000);
    expect(await Ticket.query(db).whereRaw('tags @> ARRAY[?]::text[]', [run]).resultSize()).toBe(12);
    expect(await AuditLog.query(db).whereIn('ticket_id', ids).where('action', 'created').resultSize()).toBe(12);
    // the same key after the restart is the same ticket
    const again = await send(10);
    expect(again?.status).toBe(201);
    expect(again!.body.id).toBe(ids[10]);
  }, 300_000);

  it('loses nothing when the Temporal server is restarted mid-load: one row and one workflow per accepted create', async () => {
    await ensureWorker();
    const run = `srvrestart-${Date.now()}`;
    const N = 24;
    const send = (i: number) => create(`${run} ${i}`, { key: `${run}-${i}`, tags: [run] });
    const firstPid = engine.pid();
    // four clients in a row each, so creates are in flight before, during and after the restart
    const firstTry: Awaited<ReturnType<typeof send>>[] = Array(N).fill(null);
    const clients = Promise.all(
      Array.from({ length: 4 }, async (_, c) => {
        for (let i = c; i < N; i += 4) firstTry[i] = await send(i);
      }),
    );
    await eventually(async () => (await Ticket.query(db).whereRaw('tags @> ARRAY[?]::text[]', [run]).resultSize()) >= 4, 120_000, 50);
    await engine.restart();
    expect(engine.pid()).not.toBe(firstPid);
    await clients;

    // Every answer is a success, an accepted 202, or a clear failure (no answer, 5xx) to retry.
    const accepted = firstTry.filter((r) => r && (r.status === 201 || r.status === 202));
    const seen = firstTry.reduce<Record<string, number>>(
      (m, r) => ({ ...m, [r?.status ?? 'no answer']: (m[r?.status ?? 'no answer'] ?? 0) + 1 }),
      {},
    );
    console.info(`creates across the server restart, first answers: ${JSON.stringify(seen)}`);
    for (const r of firstTry) if (r && !accepted.includes(r)) expect(r.status).toBeGreaterThanOrEqual(500);
    expect(accepted.length).toBeGreaterThan(0);

    // Clients without a 201/202 retry with their keys; those with one get the same ticket again.
    const final = await Promise.all(
      Array.from({ length: N }, async (_, i) =>
        eventually(async () => {
          const r = await send(i);
          return r && (r.status === 201 || r.status === 202) ? r : undefined;
        }, 120_000),
      ),
    );
    for (let i = 0; i < N; i++) {
      const before = firstTry[i];
      if (before && (before.status === 201 || before.status === 202)) expect(final[i]!.body.id).toBe(before.body.id);
    }
    const ids = final.map((r) => r!.body.id as string);
    expect(new Set(ids).size).toBe(N);
    await eventually(async () => (await Ticket.query(db).whereIn('id', ids).resultSize()) === N, 120_000);
    expect(await Ticket.query(db).whereRaw('tags @> ARRAY[?]::text[]', [run]).resultSize()).toBe(N);
    expect(await AuditLog.query(db).whereIn('ticket_id', ids).where('action', 'created').resultSize()).toBe(N);
    for (const id of ids) expect((await client.workflow.getHandle(ticketWorkflowId(id)).describe()).status.name).toBe('RUNNING');

    // Across the whole file: every ticket row has exactly one ticket workflow, and no workflow lacks its row.
    const rows = await Ticket.query(db).resultSize();
    await eventually(
      async () => (await client.workflow.count(`WorkflowType IN ('ticketWorkflow', 'ticketWorkflowV2')`)).count === rows,
      120_000,
    );
    const runs = new Map<string, number>();
    for await (const wf of client.workflow.list({ query: `WorkflowType IN ('ticketWorkflow', 'ticketWorkflowV2')` }))
      runs.set(wf.workflowId, (runs.get(wf.workflowId) ?? 0) + 1);
    const rowIds = (await Ticket.query(db).select('id')).map((t) => ticketWorkflowId(t.id));
    expect(new Set(runs.keys())).toEqual(new Set(rowIds));
    expect([...runs.values()].every((n) => n === 1)).toBe(true);

    // the restarted server still drives old workflows: a change to a ticket from before the restart
    const changed = await patch(ids[0]!, { title: `${run} after the restart` });
    expect(changed.status).toBe(200);
  }, 300_000);
});
