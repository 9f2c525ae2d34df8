/**
 * Crash tests: nothing accepted is lost or applied twice.
 * 1. The worker process is SIGKILLed in the middle of concurrent creates and updates, then
 *    restarted: every accepted create exists exactly once, every accepted update is applied
 *    exactly once (versions contiguous, one audit entry per change, one event per kind).
 * 2. The API process is SIGKILLed with creates in flight; clients retry with their
 *    Idempotency-Keys against a new API process: one ticket per key, no duplicates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/dev/ports.js';
import { AuditLog, Event, Ticket } from '../../src/models/index.js';
import { eventually } from '../helpers/eventually.js';
import { kill, launch } from '../helpers/processes.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';
import { ensureSlaPolicies, login, createUser } from '../helpers/factories.js';

let h: Harness;
let token: string;
let env: Record<string, string>;
beforeAll(async () => {
  h = await startHarness({ worker: false, confirmWaitMs: 2_000, env: { RATE_LIMIT_PER_MINUTE: '100000' } });
  await ensureSlaPolicies(h.db);
  const user = await createUser(h.db, { role: 'admin' });
  token = await login(h, user.username);
  env = {
    DATABASE_URL: h.config.databaseUrl!,
    TEMPORAL_ADDRESS: h.config.temporal.address!,
    TEMPORAL_TASK_QUEUE: h.config.temporal.taskQueue,
    JWT_SECRET: 'test-secret-that-is-long-enough',
    RATE_LIMIT_PER_MINUTE: '100000',
    LOG_LEVEL: 'info',
    NODE_ENV: 'test',
  };
});
afterAll(() => h.stop());

describe('worker SIGKILLed mid-flight', () => {
  it('applies every accepted create and update exactly once after restart', async () => {
    const run = `crash-${Date.now()}`;
    let worker = launch('src/main/worker.ts', env);
    await worker.ready;
    const targets: { id: string }[] = [];
    for (let i = 0; i < 4; i++)
      targets.push((await call(h, 'POST', '/api/v1/tickets', { token, body: { title: `${run} target ${i}` } })).body);
    const createWith = (i: number) =>
      call(h, 'POST', '/api/v1/tickets', {
        token,
        body: { title: `${run} create ${i}`, tags: [run] },
        headers: { 'idempotency-key': `${run}-c${i}` },
      });
    const patchWith = (t: { id: string }, j: number) =>
      call(h, 'PATCH', `/api/v1/tickets/${t.id}`, {
        token,
        body: { title: `${run} v${j}` },
        headers: { 'idempotency-key': `${run}-${t.id}-u${j}` },
      });

    // Wave 1 runs into the crash: the worker dies once some of it is written.
    const wave1 = Promise.all(Array.from({ length: 12 }, (_, i) => createWith(i)));
    const updates1 = Promise.all(targets.map(async (t) => [await patchWith(t, 0), await patchWith(t, 1)]));
    await eventually(async () => (await Ticket.query(h.db).whereRaw('tags @> ARRAY[?]::text[]', [run]).resultSize()) >= 3, 20_000);
    await kill(worker.child);
    // Wave 2 arrives while no worker runs.
    const wave2 = Promise.all(Array.from({ length: 12 }, (_, i) => createWith(12 + i)));
    const updates2 = Promise.all(targets.map(async (t) => [await patchWith(t, 2), await patchWith(t, 3)]));
    const creates = [...(await wave1), ...(await wave2)];
    const updates = [...(await updates1), ...(await updates2)].flat();

    // A create is durable once started: 201, or 202 when no worker answered in time.
    expect(creates.map((r) => r.status).every((s) => s === 201 || s === 202)).toBe(true);
    expect((await wave2).every((r) => r.status === 202)).toBe(true);
    // A change is 200 (applied), 202 (accepted, durable) or 503 (not confirmed: retry with the key).
    expect(updates.every((r) => [200, 202, 503].includes(r.status))).toBe(true);
    expect(updates.some((r) => r.status === 503)).toBe(true);

    worker = launch('src/main/worker.ts', env);
    await worker.ready;
    try {
      const ids = creates.map((r) => r.body.id as string);
      expect(new Set(ids).size).toBe(24);
      await eventually(async () => (await Ticket.query(h.db).whereIn('id', ids).resultSize()) === 24);
      expect(await Ticket.query(h.db).whereRaw('tags @> ARRAY[?]::text[]', [run]).resultSize()).toBe(24);
      expect(await AuditLog.query(h.db).whereIn('ticket_id', ids).where('action', 'created').resultSize()).toBe(24);
      expect(await Event.query(h.db).whereIn('ticket_id', ids).where('type', 'ticket.created').resultSize()).toBe(24);

      // Clients whose change was not confirmed retry it with the same key, in order.
      for (const t of targets) {
        for (let j = 0; j < 4; j++) {
          const retry = await patchWith(t, j);
          expect([200, 202]).toContain(retry.status);
        }
      }
      for (const t of targets) {
        const row = await eventually(async () => {
          const r = await Ticket.query(h.db).findById(t.id);
          return r && r.version === 5 ? r : undefined;
        });
        expect(row.version).toBe(5); // created + exactly four changes, none applied twice
        const versions = (await AuditLog.query(h.db).where({ ticketId: t.id }).orderBy('ticket_version')).map((a) => a.ticketVersion);
        expect(versions).toEqual([1, 2, 3, 4, 5]);
        expect(await Event.query(h.db).where({ ticketId: t.id, type: 'ticket.updated' }).resultSize()).toBe(4);
      }

      // A client that got 202 for its create retries with its key: the same ticket, now complete.
      const retried = await createWith(20);
      expect(retried.status).toBe(201);
      expect(retried.body.id).toBe(ids[20]);
    } finally {
      await kill(worker.child);
    }
  }, 180_000);
});

describe('API SIGKILLed mid-flight', () => {
  it('retries with the same Idempotency-Keys create each ticket once', async () => {
    const run = `apicrash-${Date.now()}`;
    const port = await freePort();
    let api = launch('src/main/api.ts', { ...env, PORT: String(port) });
    await api.ready;
    const base = { baseUrl: `http://127.0.0.1:${port}` };
    const send = (i: number) =>
      call(base, 'POST', '/api/v1/tickets', {
        token,
        body: { title: `${run} ${i}`, tags: [run] },
        headers: { 'idempotency-key': `${run}-${i}` },
      }).catch(() => null);
    let worker: ReturnType<typeof launch> | undefined;
    try {
      // No worker yet: the API has started every workflow and is waiting on them when it dies.
      const first = Promise.all(Array.from({ length: 20 }, (_, i) => send(i)));
      await new Promise((r) => setTimeout(r, 1_000));
      await kill(api.child);
      expect((await first).every((r) => r === null)).toBe(true);

      worker = launch('src/main/worker.ts', env);
      api = launch('src/main/api.ts', { ...env, PORT: String(port) });
      await Promise.all([worker.ready, api.ready]);
      const retries = await Promise.all(Array.from({ length: 20 }, (_, i) => send(i)));
      expect(retries.map((r) => r?.status)).toEqual(Array(20).fill(201));
      expect(new Set(retries.map((r) => r!.body.id)).size).toBe(20);
      expect(await Ticket.query(h.db).whereRaw('tags @> ARRAY[?]::text[]', [run]).resultSize()).toBe(20);
      expect(
        await AuditLog.query(h.db)
          .whereIn(
            'ticket_id',
            retries.map((r) => r!.body.id),
          )
          .where('action', 'created')
          .resultSize(),
      ).toBe(20);
    } finally {
      await kill(api.child);
      if (worker) await kill(worker.child);
    }
  }, 120_000);
});
