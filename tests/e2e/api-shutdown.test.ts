/**
 * SIGTERM to a real API process under load: it stops accepting at once, tells a kept-alive client
 * `Connection: close`, ends event streams with a final event, lets every in-flight request get its
 * answer (here: creates waiting the full 10 s for a worker that never comes, then 202 — longer than
 * the 5 s after which connections used to be cut), then closes its clients and exits 0.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDb, type Db } from '../../src/db/index.js';
import { freePort } from '../../src/dev/ports.js';
import { createUser, ensureSlaPolicies, login } from '../helpers/factories.js';
import { kill, launch } from '../helpers/processes.js';
import { SseClient } from '../helpers/sse.js';

let db: Db;
beforeAll(async () => {
  db = createDb(inject('databaseUrl'), { min: 0, max: 2 });
  await ensureSlaPolicies(db);
});
afterAll(() => db.destroy());

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  reusedSocket: boolean;
  at: number;
}

/** One request through `agent`, resolved with its status, headers and when it was answered. */
function request(port: number, agent: http.Agent, method: string, path: string, token: string, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      { host: '127.0.0.1', port, method, path, agent, headers: { authorization: `Bearer ${token}`, ...(payload ? { 'content-type': 'application/json' } : {}) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, reusedSocket: req.reusedSocket, at: Date.now() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
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
    const api = launch('src/main/api.ts', {
      DATABASE_URL: inject('databaseUrl'),
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: `no-worker-${randomBytes(4).toString('hex')}`, // nobody confirms: creates wait 10 s
      JWT_SECRET: 'shutdown-test-secret-long-enough',
      LOG_LEVEL: 'info',
      NODE_ENV: 'test',
      PORT: String(port),
      RATE_LIMIT_PER_MINUTE: '100000',
    });
    const exited = new Promise<number | null>((resolve) => api.child.once('exit', (code) => resolve(code)));
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
      const others = Array.from({ length: 12 }, (_, i) => request(port, new http.Agent(), 'POST', '/api/v1/tickets', token, { title: `in flight ${i}` }));
      await new Promise((r) => setTimeout(r, 1_000)); // all of them are now waiting on Temporal

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
      expect(kept.reusedSocket).toBe(true);
      expect(kept.status).toBe(202);
      expect(kept.headers.connection).toBe('close');
      const answers = await Promise.all(others);
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 202));
      // Answered after the old 5 s cut, before exit; and the process exits cleanly.
      for (const a of answers) expect(a.at - signalledAt).toBeGreaterThan(5_000);
      expect(await exited).toBe(0);
      keepAlive.destroy();
    } finally {
      await kill(api.child);
    }
  }, 120_000);
});
