/**
 * SIGTERM to a real API process under load: it stops accepting at once, tells a kept-alive client
 * `Connection: close`, ends event streams with a final event, lets every in-flight request get its
 * answer (here: creates waiting the full 10 s for a worker that never comes, then 202 — longer than
 * the 5 s after which connections used to be cut), then closes its clients and exits 0.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDb, type Db } from '../../src/db/index.js';
import { freePort } from '../../src/dev/ports.js';
import { eventually } from '../helpers/eventually.js';
import { createUser, ensureSlaPolicies, login } from '../helpers/factories.js';
import { kill, launch } from '../helpers/processes.js';
import { SseClient } from '../helpers/sse.js';

let db: Db;
let temporal: Client;
beforeAll(async () => {
  db = createDb(inject('databaseUrl'), { min: 0, max: 2 });
  await ensureSlaPolicies(db);
  temporal = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }) });
});
afterAll(async () => {
  await db.destroy();
  await temporal.connection.close();
});

async function startedWorkflows(taskQueue: string): Promise<number> {
  let n = 0;
  for await (const _ of temporal.workflow.list({ query: `TaskQueue = '${taskQueue}'` })) n++;
  return n;
}

interface Answer {
  /** 0: no answer (the connection failed: see `error`) */
  status: number;
  error?: string;
  headers: http.IncomingHttpHeaders;
  reusedSocket: boolean;
  at: number;
}

/** One request through `agent`, resolved with its status, headers and when it was answered. */
function request(port: number, agent: http.Agent, method: string, path: string, token: string, body?: unknown): Promise<Answer> {
  return new Promise((resolve) => {
    const failed = (err: NodeJS.ErrnoException) =>
      resolve({ status: 0, error: err.code ?? err.message, headers: {}, reusedSocket: false, at: Date.now() });
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: { authorization: `Bearer ${token}`, ...(payload ? { 'content-type': 'application/json' } : {}) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, reusedSocket: req.reusedSocket, at: Date.now() }));
        res.on('error', failed);
      },
    );
    req.on('error', failed);
    req.end(payload);
  });
}

function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

describe('SIGTERM to the API under load', () => {
  it('drains: in-flight requests answered (no 500, no reset), Connection: close, streams ended, exit 0', async () => {
    const port = await freePort();
    const queue = `no-worker-${randomBytes(4).toString('hex')}`;
    const api = launch('src/main/api.ts', {
      DATABASE_URL: inject('databaseUrl'),
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: queue, // nobody serves it: creates wait 10 s for a confirmation, then 202
      JWT_SECRET: 'shutdown-test-secret-long-enough',
      LOG_LEVEL: 'info',
      NODE_ENV: 'test',
      PORT: String(port),
      RATE_LIMIT_PER_MINUTE: '100000',
    });
    const exited = new Promise<number | null>((resolve) => api.child.once('exit', (code) => resolve(code)));
    let output = '';
    api.child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    api.child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    try {
      await api.ready;
      const user = await createUser(db, { role: 'admin' });
      const token = await login({ baseUrl: `http://127.0.0.1:${port}` }, user.username);
      const stream = await SseClient.open(`http://127.0.0.1:${port}/api/v1/events/stream`, { authorization: `Bearer ${token}` });
      expect(stream.status).toBe(200);

      // A kept-alive connection: one quick request, then a slow one on the same socket.
      const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
      expect((await request(port, keepAlive, 'GET', '/api/v1/tickets', token)).status).toBe(200);
      const onKeptAlive = request(port, keepAlive, 'POST', '/api/v1/tickets', token, { title: 'kept alive' });
      const others = Array.from({ length: 12 }, (_, i) =>
        request(port, new http.Agent(), 'POST', '/api/v1/tickets', token, { title: `in flight ${i}` }),
      );
      // Barrier: every create's workflow is started, so its request is inside its handler (a
      // connection still in the accept queue when the listener closes would be reset instead).
      await eventually(async () => (await startedWorkflows(queue)) >= 13, 60_000, 100);

      const signalledAt = Date.now();
      api.child.kill('SIGTERM');
      // New connections are refused promptly.
      let refused = false;
      for (let i = 0; i < 50 && !refused; i++) {
        refused = await connectionRefused(port);
        if (!refused) await new Promise((r) => setTimeout(r, 100));
      }
      expect(refused).toBe(true);
      // The stream gets a final event and ends.
      await stream.waitFor(() => stream.ended, 10_000).catch(() => undefined);
      expect(stream.ended).toBe(true);
      expect(stream.frames.at(-1)).toMatchObject({ event: 'close' });

      const kept = await onKeptAlive;
      expect(kept).toMatchObject({ status: 202, reusedSocket: true });
      expect(kept.headers.connection).toBe('close');
      const answers = await Promise.all(others);
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 202));
      // Answered after the signal, some after the 5 s at which connections used to be cut; then a clean exit.
      for (const a of answers) expect(a.at).toBeGreaterThan(signalledAt);
      expect(Math.max(...answers.map((a) => a.at)) - signalledAt).toBeGreaterThan(5_000);
      expect(await exited).toBe(0);
      keepAlive.destroy();
    } catch (err) {
      console.error(output);
      throw err;
    } finally {
      await kill(api.child);
    }
  }, 240_000); // process start-up alone can take a minute on a loaded machine
});
