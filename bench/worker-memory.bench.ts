/**
 * Worker memory with BENCH_WORKER_TICKETS (10,000) open tickets (SPEC §13): the worker runs in a
 * process of its own and its RSS is sampled every 250 ms while the tickets are created through
 * the API (c=32) and stay open, each a running workflow with its SLA timer. Baseline in the same
 * run: the same worker process at rest, before any ticket. Reports RSS at rest, after, peak, and
 * the growth per open ticket. Memory follows the workflow cache (TEMPORAL_MAX_CACHED_WORKFLOWS,
 * passed through from the environment), not the number of open tickets: beyond the cache a ticket
 * costs nothing in memory until it is touched (then it replays from history).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { signAccessToken } from '../src/auth/tokens.js';
import { ensureSlaPolicies } from '../src/commands/seed.js';
import { loadConfig } from '../src/config/env.js';
import { createDb, migrateLatest } from '../src/db/index.js';
import { startDevServer } from '../src/dev/temporal-dev-server.js';
import { createLogger } from '../src/logger.js';
import { User } from '../src/models/index.js';
import { startHttpServer } from '../src/server.js';
import { connectTemporal } from '../src/temporal/client.js';
import { installTemporalRuntime } from '../src/temporal/runtime.js';
import { load, report, round, scratchDatabase } from './lib/harness.js';

const TICKETS = Number(process.env.BENCH_WORKER_TICKETS ?? 10_000);
const repo = path.resolve(import.meta.dirname, '..');
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

const scratch = await scratchDatabase();
const temporalServer = await startDevServer({ dbFilename: path.join(scratch.tmp, 'temporal.db') });
const env = {
  DATABASE_URL: scratch.url,
  TEMPORAL_ADDRESS: temporalServer.address,
  LOG_LEVEL: 'info',
  RATE_LIMIT_PER_MINUTE: '100000000',
  JWT_SECRET: 'bench-secret-long-enough-123',
};
const config = loadConfig({ ...env, LOG_LEVEL: 'silent' });
const logger = createLogger('silent');
installTemporalRuntime(logger);
const db = createDb(scratch.url, { min: 2, max: 20 });
await migrateLatest(db);
await ensureSlaPolicies(db, config);
const user = await User.query(db).insert({ username: 'bench', email: 'bench@example.test', fullName: 'Bench', role: 'admin', isActive: true, passwordHash: 'x' } as Partial<User>).returning('*');
const token = signAccessToken(config, user).token;

const worker = spawn(process.execPath, ['--import', 'tsx', 'src/main/worker.ts'], { cwd: repo, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise<void>((resolve) => worker.stdout!.on('data', (c: Buffer) => c.toString().includes('worker running') && resolve()));
const temporal = await connectTemporal(temporalServer.address, 'default');
const api = await startHttpServer({ config, db, temporal: temporal.client, logger }, 0, '127.0.0.1');

let peak = 0;
const sampler = setInterval(() => (peak = Math.max(peak, rssMb(worker.pid!))), 250);
try {
  await sleep(3_000);
  const atRest = rssMb(worker.pid!);
  const created = await load(TICKETS, 32, async (i) => {
    const r = await fetch(`http://127.0.0.1:${api.port}/api/v1/tickets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ title: `Open ticket ${i}`, description: 'Stays open for the benchmark.', priority: 'low' }),
    });
    if (r.status !== 201) throw new Error(`POST /tickets ${r.status} ${await r.text()}`);
  });
  await sleep(10_000); // let the last tasks settle and the heap stabilise
  const after = rssMb(worker.pid!);
  const open = (await db('tickets').where({ status: 'open' }).count('* as n').first()) as { n: string };
  report('worker_memory_open_tickets', {
    open_tickets: Number(open.n),
    max_cached_workflows: process.env.TEMPORAL_MAX_CACHED_WORKFLOWS || 'SDK default',
    rss_at_rest_mb: round(atRest, 1),
    rss_after_mb: round(after, 1),
    rss_peak_mb: round(peak, 1),
    kb_per_open_ticket: round(((after - atRest) * 1024) / Number(open.n), 1),
    create_per_second: created.per_second,
  });
} finally {
  clearInterval(sampler);
  await api.close();
  worker.kill('SIGINT');
  await new Promise((r) => worker.once('exit', r));
  await temporal.close();
  await db.destroy();
  await temporalServer.stop();
  await scratch.drop();
}
