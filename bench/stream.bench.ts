/**
 * SSE fan-out: 10,000 concurrent subscribers on one API process (a child process; this process
 * holds the client sockets). Figures: the API's memory per connection (RSS before and after
 * subscribing), and for each published event the time until the *last* subscriber has it
 * (p50/p99 over events). Baseline in the same run: the same measure with a single subscriber.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { signAccessToken } from '../src/auth/tokens.js';
import { loadConfig } from '../src/config/env.js';
import { createDb, migrateLatest } from '../src/db/index.js';
import { freePort } from '../src/dev/ports.js';
import { envelope } from '../src/events/envelope.js';
import { insertEvent } from '../src/events/store.js';
import { User } from '../src/models/index.js';
import { startBenchTemporal } from './lib/engine.js';
import { percentile, report, round, scratchDatabase } from './lib/harness.js';

const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 10_000);
const EVENTS = 40;
const repo = path.resolve(import.meta.dirname, '..');

const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);

const scratch = await scratchDatabase();
const temporal = await startBenchTemporal(scratch, { inMemory: true });
const env = {
  DATABASE_URL: scratch.url,
  TEMPORAL_ADDRESS: temporal.address,
  LOG_LEVEL: 'info',
  RATE_LIMIT_PER_MINUTE: '100000000',
  JWT_SECRET: 'bench-secret-long-enough-123',
};
const config = loadConfig(env);
const db = createDb(scratch.url);
await migrateLatest(db);
const user = await User.query(db)
  .insert({
    username: 'bench',
    email: 'b@example.test',
    fullName: 'Bench',
    role: 'admin',
    isActive: true,
    passwordHash: 'x',
  } as Partial<User>)
  .returning('*');
const token = signAccessToken(config, user).token;

/** An API process of its own (own LISTEN connection), listening on a free port. */
async function startApi(): Promise<{ port: number; proc: ChildProcess }> {
  const port = await freePort();
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main/api.ts'], {
    cwd: repo,
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve) => proc.stdout!.on('data', (c: Buffer) => c.toString().includes('API listening') && resolve()));
  proc.stdout!.resume();
  return { port, proc };
}

/** Latest receive time per event seq, over all subscribers. */
const lastArrival = new Map<number, number>();
const published = new Map<number, number>();

const SEQ_MARK = Buffer.from('"bench_seq":');
const READY_MARK = Buffer.from('retry:');

/**
 * One subscriber socket. Its handler does as little as it can (a byte search, no decoding, no
 * regex): the 10,000 sockets share the machine with the API, and whatever the client spends per
 * chunk lands in the *last* subscriber's time. (Not what limited the figure: with the old handler
 * and with this one the 1-process p50 was 197–290 ms, run to run, before the server's writes changed.)
 */
function subscriber(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let ready = false;
    socket.on('data', (chunk: Buffer) => {
      const now = performance.now();
      if (!ready && chunk.includes(READY_MARK)) {
        ready = true;
        resolve(socket);
      }
      // frames are never split across chunks here (one small write per event on loopback)
      for (let at = chunk.indexOf(SEQ_MARK); at >= 0; at = chunk.indexOf(SEQ_MARK, at + 1)) {
        let seq = 0;
        for (let i = at + SEQ_MARK.length; i < chunk.length && chunk[i]! >= 48 && chunk[i]! <= 57; i++) seq = seq * 10 + chunk[i]! - 48;
        const last = lastArrival.get(seq);
        if (last === undefined || now > last) lastArrival.set(seq, now);
      }
    });
    socket.on('error', reject);
    socket.write(`GET /api/v1/events/stream HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer ${token}\r\n\r\n`);
  });
}

async function publishAndMeasure(label: string, extra: Record<string, unknown>): Promise<void> {
  lastArrival.clear();
  published.clear();
  const base = Date.now();
  for (let i = 0; i < EVENTS; i++) {
    const seq = base + i;
    const e = envelope('ticket.updated', {
      ticket: { id: randomUUID(), assigned_group_id: null, assigned_user_id: null, created_by_id: user.id },
      changes: {},
      actor: { type: 'system' },
      bench_seq: seq,
    });
    published.set(seq, performance.now());
    await insertEvent(db, { id: e.id, type: e.type, payload: e });
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 3_000)); // let the last ones land
  const latencies = [...published].map(([seq, t]) => (lastArrival.get(seq) ?? Infinity) - t).sort((a, b) => a - b);
  const delivered = latencies.filter(Number.isFinite).length;
  report(label, {
    events: EVENTS,
    delivered_to_all: delivered,
    p50_ms: round(percentile(latencies, 50)),
    p99_ms: round(percentile(latencies, 99)),
    ...extra,
  });
}

/**
 * SUBSCRIBERS streams spread round-robin over `processes` API processes: memory per stream, then
 * event → last subscriber. With one process, first the same with a single subscriber (the baseline).
 */
async function scenario(processes: number): Promise<void> {
  const apis: { port: number; proc: ChildProcess }[] = [];
  const sockets: net.Socket[] = [];
  try {
    for (let i = 0; i < processes; i++) apis.push(await startApi());
    const before = apis.map((a) => rssKb(a.proc.pid!));
    sockets.push(await subscriber(apis[0]!.port));
    if (processes === 1) await publishAndMeasure('sse_event_to_last_subscriber_baseline', { subscribers: 1, api_processes: 1 });
    for (let opened = 1; opened < SUBSCRIBERS;) {
      const batch = Math.min(500, SUBSCRIBERS - opened);
      sockets.push(...(await Promise.all(Array.from({ length: batch }, (_, i) => subscriber(apis[(opened + i) % processes]!.port)))));
      opened += batch;
    }
    await new Promise((r) => setTimeout(r, 2_000));
    const after = apis.map((a) => rssKb(a.proc.pid!));
    const grown = after.reduce((a, b) => a + b, 0) - before.reduce((a, b) => a + b, 0);
    report('sse_connection_memory', {
      subscribers: SUBSCRIBERS,
      api_processes: processes,
      api_rss_before_mb: before.map((kb) => round(kb / 1024, 1)),
      api_rss_after_mb: after.map((kb) => round(kb / 1024, 1)),
      kb_per_connection: round(grown / SUBSCRIBERS, 2),
    });
    await publishAndMeasure('sse_event_to_last_subscriber', { subscribers: SUBSCRIBERS, api_processes: processes });
  } finally {
    for (const s of sockets) s.destroy();
    for (const a of apis) {
      a.proc.kill('SIGTERM');
      await new Promise((r) => a.proc.once('exit', r));
    }
  }
}

try {
  for (const processes of (process.env.BENCH_STREAM_PROCESSES ?? '1,3').split(',').map(Number)) await scenario(processes);
} finally {
  await db.destroy();
  await temporal.stop();
  await scratch.drop();
}
