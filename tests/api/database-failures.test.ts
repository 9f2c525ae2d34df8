/**
 * Every way the database can fail under a request is a 503 `database_unavailable` with
 * Retry-After, never a 500: the real errors the driver raises when a connection is terminated by
 * the server or cut under a running query, and requests in flight while that happens.
 */
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../../src/db/index.js';
import { freePort } from '../../src/dev/ports.js';
import { AppError, translateDbError, translateOutage } from '../../src/errors/index.js';
import { User } from '../../src/models/index.js';
import { startHttpServer, type RunningHttpServer } from '../../src/server.js';
import { eventually } from '../helpers/eventually.js';
import { call, startHarness, type ApiResponse, type Harness } from '../helpers/harness.js';
import { createUser, signedIn } from '../helpers/factories.js';

let h: Harness;
let admin: { token: string };
let database: string;

beforeAll(async () => {
  // a database of its own: terminating its connections disturbs no other file
  h = await startHarness({ scratch: 'db_failures', worker: false, env: { RATE_LIMIT_PER_MINUTE: '1000000' } });
  database = new URL(h.config.databaseUrl!).pathname.slice(1);
  admin = await signedIn(h, 'admin');
});
afterAll(() => h.stop());

/** Terminates this file's database connections (all but the caller's), as an administrator or a failover would. */
async function terminateBackends(onlyActive = false): Promise<number> {
  const client = new pg.Client({ connectionString: h.config.databaseUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query(
      `select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid() ${onlyActive ? "and state <> 'idle'" : ''}`,
      [database],
    );
    return rowCount ?? 0;
  } finally {
    await client.end();
  }
}

/** A TCP proxy to PostgreSQL that can hold every query (stall) and then cut every connection. */
async function cuttableProxy(target: URL) {
  const sockets = new Set<net.Socket>();
  let stalled = false;
  let held = 0;
  const port = await freePort();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.on('data', (chunk: Buffer) => {
      if (stalled)
        held += 1; // the query never reaches the server: its request waits
      else upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const url = new URL(target);
  url.host = `127.0.0.1:${port}`;
  return {
    url: url.toString(),
    stall: () => {
      stalled = true;
      held = 0;
    },
    held: () => held,
    /** destroy every connection (queries in flight end with "Connection terminated unexpectedly"), then pass traffic again */
    cut: () => {
      for (const s of sockets) s.destroy();
      stalled = false;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('the errors the driver raises', () => {
  it('a query running when its connection is terminated or cut translates to 503', async () => {
    const errors: unknown[] = [];
    const db = createDb(h.config.databaseUrl!, { min: 0, max: 2 });
    try {
      // terminated by the server (57P01 admin_shutdown), through knex and through Objection
      const sleeping = [
        db.raw('select pg_sleep(30)').catch((e: unknown) => e),
        User.query(db)
          .whereRaw('pg_sleep(30) is not null')
          .catch((e: unknown) => e),
      ];
      await eventually(
        async () =>
          (
            await h
              .db('pg_stat_activity')
              .where({ datname: database })
              .whereLike('query', '%pg_sleep(30)%')
              .whereNot('query', 'like', '%pg_stat_activity%')
          ).length === 2,
        30_000,
      );
      expect(await terminateBackends(true)).toBeGreaterThanOrEqual(2);
      errors.push(...(await Promise.all(sleeping)));
    } finally {
      await db.destroy();
    }
    // cut under the query (no goodbye from the server: "Connection terminated unexpectedly")
    const proxy = await cuttableProxy(new URL(h.config.databaseUrl!));
    const cutDb = createDb(proxy.url, { min: 0, max: 2 });
    try {
      await cutDb.raw('select 1');
      proxy.stall();
      const pending = [
        cutDb.raw('select 1').catch((e: unknown) => e),
        User.query(cutDb)
          .first()
          .catch((e: unknown) => e),
      ];
      await eventually(() => Promise.resolve(proxy.held() >= 2), 30_000, 20);
      proxy.cut();
      errors.push(...(await Promise.all(pending)));
    } finally {
      await cutDb.destroy();
      await proxy.close();
    }
    expect(errors).toHaveLength(4);
    for (const err of errors) {
      expect(err, 'the query failed').toBeInstanceOf(Error);
      const mapped = translateOutage(translateDbError(err));
      expect(mapped, String(err)).toBeInstanceOf(AppError);
      expect([(mapped as AppError).status, (mapped as AppError).code, (mapped as AppError).headers['Retry-After']]).toEqual([
        503,
        'database_unavailable',
        '5',
      ]);
    }
  });
});

describe('requests in flight', () => {
  it('whose connections are cut under their queries all answer 503 database_unavailable with Retry-After', async () => {
    const proxy = await cuttableProxy(new URL(h.config.databaseUrl!));
    const db = createDb(proxy.url, { min: 0, max: 10 });
    let server: RunningHttpServer | undefined;
    try {
      server = await startHttpServer(
        { config: h.config, db, temporal: h.temporal.client, logger: (await import('../../src/logger.js')).createLogger('silent') },
        0,
        '127.0.0.1',
      );
      const base = { baseUrl: `http://127.0.0.1:${server.port}` };
      const user = await createUser(h.db);
      expect((await call(base, 'GET', '/api/v1/auth/me', { token: admin.token })).status).toBe(200);
      proxy.stall();
      const requests: [string, string, unknown?][] = [
        ['GET', '/api/v1/tickets'],
        ['GET', '/api/v1/users?search=a'],
        ['GET', '/api/v1/auth/me'],
        ['GET', '/api/v1/groups'],
        ['POST', '/api/v1/groups', { name: `cut-${Date.now()}` }],
        ['GET', '/api/v1/dashboard/summary'],
        ['GET', '/api/v1/sla-policies'],
        ['GET', '/api/v1/webhooks'],
      ];
      const inFlight = [
        ...requests.map(([method, path, body]) => call(base, method, path, { token: admin.token, body })),
        call(base, 'POST', '/api/v1/auth/login', { body: { username: user.username, password: 'whatever' } }),
      ];
      await eventually(() => Promise.resolve(proxy.held() >= inFlight.length), 30_000, 20);
      proxy.cut();
      const answers: ApiResponse[] = await Promise.all(inFlight);
      for (const res of answers) {
        expect([res.status, res.body.error?.code, res.headers.get('retry-after')]).toEqual([503, 'database_unavailable', '5']);
      }
      // and the pool recovers: the next request is served
      await eventually(async () => (await call(base, 'GET', '/api/v1/auth/me', { token: admin.token })).status === 200, 30_000);
    } finally {
      await server?.close();
      await db.destroy();
      await proxy.close();
    }
  });

  it('never answer 500 while the server terminates the connections again and again', async () => {
    const answers: ApiResponse[] = [];
    const requests = (): Promise<ApiResponse>[] => [
      call(h, 'GET', '/api/v1/tickets?search=word', { token: admin.token }),
      call(h, 'GET', '/api/v1/users', { token: admin.token }),
      call(h, 'POST', '/api/v1/groups', { token: admin.token, body: { name: `term-${Math.random()}` } }),
      call(h, 'GET', '/api/v1/dashboard/summary', { token: admin.token }),
      call(h, 'GET', '/api/v1/auth/me', { token: admin.token }),
    ];
    const deadline = Date.now() + 60_000;
    // keep going until several requests were caught by a termination (or a minute passed)
    while (Date.now() < deadline && answers.filter((a) => a.status === 503).length < 5) {
      const batch = [...requests(), ...requests(), ...requests()];
      await terminateBackends();
      answers.push(...(await Promise.all(batch)));
    }
    const unexpected = answers.filter(
      (a) => a.status >= 500 && !(a.status === 503 && a.body.error.code === 'database_unavailable' && a.headers.get('retry-after') === '5'),
    );
    expect(unexpected.map((a) => `${a.status} ${JSON.stringify(a.body)}`)).toEqual([]);
    expect(answers.filter((a) => a.status === 503).length).toBeGreaterThanOrEqual(1);
  });
});

describe('a database that answers but cannot take the request', () => {
  it('read-only (a failover to a standby, or set read-only) is a 503 with Retry-After on writes, reads still served', async () => {
    const readOnly = async (on: boolean) => {
      const client = new pg.Client({ connectionString: h.config.databaseUrl });
      await client.connect();
      await client.query('set default_transaction_read_only = off'); // this session may write whatever the database says
      const setting = on ? 'set default_transaction_read_only = on' : 'reset default_transaction_read_only';
      await client.query(`alter database ${pg.escapeIdentifier(database)} ${setting}`).finally(() => client.end());
      await terminateBackends(); // the pool reconnects: every new session takes the setting
    };
    await readOnly(true);
    try {
      // the first answers may meet a terminated connection: a 503 as well
      await eventually(async () => (await call(h, 'GET', '/api/v1/groups', { token: admin.token })).status === 200, 30_000);
      const writes = await Promise.all([
        call(h, 'POST', '/api/v1/groups', { token: admin.token, body: { name: `ro-${Date.now()}` } }),
        call(h, 'POST', '/api/v1/api-keys', { token: admin.token, body: { name: 'ro' } }),
        call(h, 'POST', '/api/v1/business-calendars', {
          token: admin.token,
          body: { name: `ro-${Date.now()}`, timezone: 'UTC', weekly_hours: { mon: [{ start: '09:00', end: '17:00' }] } },
        }),
      ]);
      for (const res of writes) {
        expect([res.status, res.body.error?.code, res.headers.get('retry-after')]).toEqual([503, 'database_unavailable', '5']);
      }
    } finally {
      await readOnly(false);
    }
    await eventually(
      async () => (await call(h, 'POST', '/api/v1/groups', { token: admin.token, body: { name: `rw-${Date.now()}` } })).status === 201,
      30_000,
    );
  });

  it('a lock wait cut by lock_timeout and a deadlock victim are 503s too (the driver errors, translated)', async () => {
    const a = new pg.Client({ connectionString: h.config.databaseUrl });
    const b = new pg.Client({ connectionString: h.config.databaseUrl });
    await Promise.all([a.connect(), b.connect()]);
    for (const c of [a, b]) c.on('error', () => undefined);
    try {
      const [u1, u2] = [await createUser(h.db), await createUser(h.db)];
      // lock_timeout: 55P03
      await a.query('begin');
      await a.query('select 1 from users where id = $1 for update', [u1.id]);
      await b.query("set lock_timeout = '50ms'");
      const locked = await b.query('select 1 from users where id = $1 for update', [u1.id]).catch((e: unknown) => e);
      await a.query('rollback');
      await b.query("set lock_timeout = '0'");
      // deadlock: 40P01
      await a.query('begin');
      await b.query('begin');
      await a.query('update users set full_name = full_name where id = $1', [u1.id]);
      await b.query('update users set full_name = full_name where id = $1', [u2.id]);
      const first = a.query('update users set full_name = full_name where id = $1', [u2.id]).catch((e: unknown) => e);
      const second = b.query('update users set full_name = full_name where id = $1', [u1.id]).catch((e: unknown) => e);
      const deadlock = [await first, await second].find((r) => r instanceof Error);
      await a.query('rollback').catch(() => undefined);
      await b.query('rollback').catch(() => undefined);
      for (const [err, code] of [
        [locked, '55P03'],
        [deadlock, '40P01'],
      ] as const) {
        expect((err as { code?: string }).code).toBe(code);
        const mapped = translateOutage(translateDbError(err)) as AppError;
        expect([mapped.status, mapped.code, mapped.headers['Retry-After']]).toEqual([503, 'database_unavailable', '5']);
      }
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });
});
