/**
 * Outages of the two stores, with requests in flight; nothing accepted is lost or applied twice.
 * 1. The worker loses its database (its connections go through a TCP proxy that is cut, then
 *    restored): accepted creates and changes wait in their workflows and are written once.
 * 2. The Temporal server is SIGKILLed and restarted on the same state: clients retry what was not
 *    confirmed with their Idempotency-Keys, and every request lands exactly once.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDb } from '../../src/db/index.js';
import { freePort } from '../../src/dev/ports.js';
import { startDevServer } from '../../src/dev/temporal-dev-server.js';
import { AuditLog, Ticket } from '../../src/models/index.js';
import { createTicketWorker } from '../../src/worker.js';
import { eventually } from '../helpers/eventually.js';
import { call, startHarness, type ApiResponse, type Harness } from '../helpers/harness.js';
import { createUser, ensureSlaPolicies, login } from '../helpers/factories.js';

/** A TCP proxy to PostgreSQL that can be cut (connections reset, new ones refused) and restored. */
async function dbProxy(target: URL) {
  const sockets = new Set<net.Socket>();
  const port = await freePort();
  let server: net.Server | null = null;
  const up = () =>
    new Promise<void>((resolve) => {
      server = net.createServer((client) => {
        const upstream = net.connect(Number(target.port || 5432), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => undefined);
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, '127.0.0.1', resolve);
    });
  const down = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      const closing = server;
      server = null;
      if (closing) closing.close(() => resolve());
      else resolve();
    });
  await up();
  const url = new URL(target);
  url.host = `127.0.0.1:${port}`;
  return { url: url.toString(), up, down };
}

/** Retry a request until it gets a 2xx (as a client following the 503 advice does). */
async function untilAccepted(send: () => Promise<ApiResponse | null>, timeoutMs = 60_000): Promise<ApiResponse> {
  return eventually(async () => {
    const res = await send().catch(() => null);
    return res && res.status >= 200 && res.status < 300 ? res : undefined;
  }, timeoutMs);
}

describe('the worker loses its database mid-flight', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ worker: false, confirmWaitMs: 2_000, env: { RATE_LIMIT_PER_MINUTE: '100000' } });
    await ensureSlaPolicies(h.db);
  });
  afterAll(() => h.stop());

  it('writes every accepted create and change once the database is back', async () => {
    const proxy = await dbProxy(new URL(inject('databaseUrl')));
    const workerDb = createDb(proxy.url, { min: 0, max: 4 });
    const bundle = { code: await readFile(inject('workflowBundlePath'), 'utf8') };
    const { worker, connection } = await createTicketWorker({
      address: h.config.temporal.address!,
      namespace: 'default',
      taskQueue: h.config.temporal.taskQueue,
      db: workerDb,
      webhooks: h.config.webhooks,
      workflowBundle: bundle,
    });
    const running = worker.run();
    try {
      const user = await createUser(h.db, { role: 'admin' });
      const token = await login(h, user.username);
      const run = `dbdown-${Date.now()}`;
      const targets = await Promise.all(
        [0, 1].map(async (i) => (await call(h, 'POST', '/api/v1/tickets', { token, body: { title: `${run} target ${i}` } })).body),
      );

      await proxy.down();
      const creates = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          call(h, 'POST', '/api/v1/tickets', {
            token,
            body: { title: `${run} ${i}`, tags: [run] },
            headers: { 'idempotency-key': `${run}-${i}` },
          }),
        ),
      );
      const change = (t: { id: string }) =>
        call(h, 'PATCH', `/api/v1/tickets/${t.id}`, {
          token,
          body: { priority: 'critical' },
          headers: { 'idempotency-key': `${run}-${t.id}` },
        });
      const changes = await Promise.all(targets.map(change));
      // Creates are started, durably (202). A change is accepted only once its write is done, so
      // it is not confirmed (503) or accepted (202) — never applied yet, never lost.
      expect(creates.map((r) => r.status)).toEqual(Array(6).fill(202));
      expect(changes.every((r) => r.status === 202 || r.status === 503)).toBe(true);
      expect(await Ticket.query(h.db).whereRaw('tags @> ARRAY[?]::text[]', [run]).resultSize()).toBe(0);
      expect((await Ticket.query(h.db).findById(targets[0].id))!.version).toBe(1);

      await proxy.up();
      // Clients retry unconfirmed changes with the same key, as the 503 tells them to.
      for (const t of targets) await untilAccepted(() => change(t), 90_000);
      const ids = creates.map((r) => r.body.id);
      await eventually(async () => (await Ticket.query(h.db).whereIn('id', ids).resultSize()) === 6, 90_000);
      for (const t of targets) {
        const row = await eventually(async () => {
          const r = await Ticket.query(h.db).findById(t.id);
          return r?.version === 2 ? r : undefined;
        }, 90_000);
        expect(row.priority).toBe('critical');
        expect(await AuditLog.query(h.db).where({ ticketId: t.id, ticketVersion: 2 }).resultSize()).toBe(1);
      }
      expect(await AuditLog.query(h.db).whereIn('ticket_id', ids).where('action', 'created').resultSize()).toBe(6);
      const retry = await call(h, 'POST', '/api/v1/tickets', {
        token,
        body: { title: `${run} 0`, tags: [run] },
        headers: { 'idempotency-key': `${run}-0` },
      });
      expect([retry.status, retry.body.id]).toEqual([201, ids[0]]);
    } finally {
      worker.shutdown();
      await running.catch(() => undefined);
      await connection.close();
      await workerDb.destroy();
      await proxy.down();
    }
  }, 180_000);
});

describe('the Temporal server is SIGKILLed mid-flight', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'servicemeow-temporal-crash-'));
    await chmod(tmp, 0o755);
  });
  afterAll(() => rm(tmp, { recursive: true, force: true }));

  it('loses and duplicates nothing once clients retry with their keys', async () => {
    const port = await freePort();
    const dbFilename = path.join(tmp, 'temporal.db');
    let server = await startDevServer({ port, dbFilename });
    const h = await startHarness({ confirmWaitMs: 3_000, env: { TEMPORAL_ADDRESS: server.address, RATE_LIMIT_PER_MINUTE: '100000' } });
    try {
      await ensureSlaPolicies(h.db);
      const user = await createUser(h.db, { role: 'admin' });
      const token = await login(h, user.username);
      const run = `tcrash-${randomBytes(3).toString('hex')}`;
      const target = (await call(h, 'POST', '/api/v1/tickets', { token, body: { title: `${run} target` } })).body;
      const create = (i: number) =>
        call(h, 'POST', '/api/v1/tickets', {
          token,
          body: { title: `${run} ${i}`, tags: [run] },
          headers: { 'idempotency-key': `${run}-${i}` },
        });
      const change = (j: number) =>
        call(h, 'PATCH', `/api/v1/tickets/${target.id}`, {
          token,
          body: { title: `${run} v${j}` },
          headers: { 'idempotency-key': `${run}-u${j}` },
        });

      const inFlight = Promise.all(Array.from({ length: 10 }, (_, i) => create(i).catch(() => null)));
      const changes = (async () => {
        const out = [];
        for (let j = 0; j < 3; j++) out.push(await change(j).catch(() => null));
        return out;
      })();
      await new Promise((r) => setTimeout(r, 150));
      process.kill(server.pid!, 'SIGKILL');
      const first = await inFlight;
      await changes;
      expect(first.some((r) => !r || r.status >= 500)).toBe(true); // the crash hit requests in flight

      server = await startDevServer({ port, dbFilename });
      if (h.worker?.worker.getState() !== 'RUNNING') {
        await h.worker?.stop().catch(() => undefined);
        await h.startWorker();
      }
      // Every client retries until its request is confirmed.
      const creates = await Promise.all(Array.from({ length: 10 }, (_, i) => untilAccepted(() => create(i))));
      for (let j = 0; j < 3; j++) await untilAccepted(() => change(j));

      const ids = creates.map((r) => r.body.id);
      expect(new Set(ids).size).toBe(10);
      await eventually(async () => (await Ticket.query(h.db).whereIn('id', ids).resultSize()) === 10);
      expect(await Ticket.query(h.db).whereRaw('tags @> ARRAY[?]::text[]', [run]).resultSize()).toBe(10);
      const row = await eventually(async () => {
        const r = await Ticket.query(h.db).findById(target.id);
        return r?.version === 4 ? r : undefined;
      });
      expect(row.version).toBe(4); // three changes, each once
      expect((await AuditLog.query(h.db).where({ ticketId: target.id }).orderBy('ticket_version')).map((a) => a.ticketVersion)).toEqual([
        1, 2, 3, 4,
      ]);
    } finally {
      await h.stop();
      await server.stop();
    }
  }, 240_000);
});
