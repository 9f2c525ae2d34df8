/**
 * The process entries as an operator runs them: `start:worker` and `start:api` as two processes
 * (SIGTERM stops both cleanly), and `npm start` given both connections (it migrates, seeds once,
 * prints the MCP key once, serves, and stops on Ctrl-C).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDb, type Db } from '../../src/db/index.js';
import { createDatabaseIfMissing } from '../../src/dev/embedded-postgres.js';
import { freePort } from '../../src/dev/ports.js';
import { Ticket } from '../../src/models/index.js';
import { call } from '../helpers/harness.js';
import { SseClient } from '../helpers/sse.js';
import { createUser, ensureSlaPolicies, login } from '../helpers/factories.js';

const repo = path.resolve(import.meta.dirname, '../..');
const tsx = path.join(repo, 'node_modules/.bin/tsx');

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function launch(script: string, env: Record<string, string>, cwd = repo): Proc {
  const child = spawn(tsx, [path.resolve(repo, script)], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  return { child, output: () => out, exited: new Promise((r) => child.once('exit', (code) => r(code))) };
}

async function waitFor(proc: Proc, pattern: RegExp, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(proc.output())) {
    if (proc.child.exitCode !== null) throw new Error(`exited early (${proc.child.exitCode}):\n${proc.output()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const baseEnv = () => ({
  DATABASE_URL: inject('databaseUrl'),
  TEMPORAL_ADDRESS: inject('temporalAddress'),
  TEMPORAL_TASK_QUEUE: `proc-${randomBytes(4).toString('hex')}`,
  JWT_SECRET: 'process-test-secret-long-enough',
  LOG_LEVEL: 'info',
  NODE_ENV: 'test',
});

describe('start:worker and start:api', () => {
  let db: Db;
  beforeAll(async () => {
    db = createDb(inject('databaseUrl'), { min: 0, max: 2 });
    await ensureSlaPolicies(db);
  });
  afterAll(() => db.destroy());

  it('create a ticket across two processes and stop cleanly on SIGTERM', async () => {
    const env = { ...baseEnv(), PORT: String(await freePort()) };
    const worker = launch('src/main/worker.ts', env);
    const api = launch('src/main/api.ts', env);
    try {
      await Promise.all([waitFor(worker, /worker running/), waitFor(api, /API listening/)]);
      const base = { baseUrl: `http://127.0.0.1:${env.PORT}` };
      expect((await call(base, 'GET', '/api/v1/ready')).status).toBe(200);
      const user = await createUser(db, { role: 'admin' });
      const token = await login(base, user.username);
      const res = await call(base, 'POST', '/api/v1/tickets', { token, body: { title: 'Two processes' } });
      expect(res.status).toBe(201);
      expect((await Ticket.query(db).findById(res.body.id))?.title).toBe('Two processes');
      // logs are JSON lines carrying the request id
      const line = api
        .output()
        .split('\n')
        .find((l) => l.includes(res.headers.get('x-request-id')!));
      expect(JSON.parse(line!)).toMatchObject({
        request_id: res.headers.get('x-request-id'),
        method: 'POST',
        path: '/api/v1/tickets',
        status: 201,
      });
    } finally {
      worker.child.kill('SIGTERM');
      api.child.kill('SIGTERM');
    }
    expect(await worker.exited).toBe(0);
    expect(await api.exited).toBe(0);
    expect(worker.output()).toMatch(/worker stopped/);
  }, 120_000);

  it('refuse to start without their connections, naming the variables', async () => {
    const api = launch('src/main/api.ts', { DATABASE_URL: '', TEMPORAL_ADDRESS: '' });
    expect(await api.exited).not.toBe(0);
    expect(api.output()).toMatch(/DATABASE_URL: required[\s\S]*TEMPORAL_ADDRESS: required/);
    const bad = launch('src/main/worker.ts', { DATABASE_URL: 'nope', TEMPORAL_ADDRESS: '127.0.0.1:1', PORT: 'x' });
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toMatch(/PORT: must be a number[\s\S]*DATABASE_URL: must be a postgres/);
  }, 60_000);
});

describe('npm start with connections given', () => {
  const name = `servicemeow_start_${randomBytes(4).toString('hex')}`;
  let url: string;
  beforeAll(async () => {
    await createDatabaseIfMissing(inject('adminDatabaseUrl'), name);
    const u = new URL(inject('adminDatabaseUrl'));
    u.pathname = `/${name}`;
    url = u.toString();
  });
  afterAll(async () => {
    const client = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    await client.end();
  });

  it('migrates, seeds once (MCP key printed once), serves the seeded admin, and stops on SIGINT', async () => {
    const env = { ...baseEnv(), DATABASE_URL: url, PORT: String(await freePort()), DEFAULT_ADMIN_PASSWORD: 'admin' };
    const first = launch('src/main/start.ts', env);
    try {
      await waitFor(first, /ServiceMeow is running/);
      const base = { baseUrl: `http://127.0.0.1:${env.PORT}` };
      expect((await call(base, 'GET', '/api/v1/ready')).body.status).toBe('ready');
      const token = await login(base, 'admin', 'admin');
      expect((await call(base, 'POST', '/api/v1/tickets', { token, body: { title: 'Seeded admin ticket' } })).body.ticket_number).toBe(
        'ASM-0001',
      );
    } finally {
      first.child.kill('SIGINT');
    }
    expect(await first.exited).toBe(0);
    expect(first.output().match(/^MCP API Key: smk_\S+$/gm)).toHaveLength(1);

    const second = launch('src/main/start.ts', env);
    try {
      await waitFor(second, /ServiceMeow is running/);
    } finally {
      second.child.kill('SIGINT');
    }
    expect(await second.exited).toBe(0);
    expect(second.output()).not.toContain('MCP API Key');
  }, 120_000);
});

describe('npm start with the embedded PostgreSQL', () => {
  it('runs on its own database in .data/pg of its working directory, event stream included', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'servicemeow-start-'));
    await chmod(dir, 0o755);
    const env = { ...baseEnv(), DATABASE_URL: '', PORT: String(await freePort()), DEFAULT_ADMIN_PASSWORD: 'admin' };
    const proc = launch('src/main/start.ts', env, dir);
    try {
      await waitFor(proc, /ServiceMeow is running/, 90_000);
      expect(existsSync(path.join(dir, '.data/pg/PG_VERSION'))).toBe(true);
      const base = { baseUrl: `http://127.0.0.1:${env.PORT}` };
      const token = await login(base, 'admin', 'admin');
      const stream = await SseClient.open(`${base.baseUrl}/api/v1/events/stream`, { authorization: `Bearer ${token}` });
      try {
        const created = await call(base, 'POST', '/api/v1/tickets', { token, body: { title: 'Embedded' } });
        expect(created.status).toBe(201);
        await stream.waitFor(() => stream.events.some((e) => e.event === 'ticket.created' && e.data.data.ticket.id === created.body.id));
      } finally {
        stream.close();
      }
    } finally {
      proc.child.kill('SIGINT');
      expect(await proc.exited).toBe(0);
      await rm(dir, { recursive: true, force: true });
    }
  }, 150_000);
});
