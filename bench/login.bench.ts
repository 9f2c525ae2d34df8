/**
 * Password hashing cost and login latency, with GET /health on the same server as the baseline
 * (the HTTP stack's floor). Uses BENCH_DATABASE_URL's server if set, else an embedded PostgreSQL.
 * One JSON line per figure.
 */
import { Client, Connection } from '@temporalio/client';
import { hashPassword, verifyPassword } from '../src/auth/passwords.js';
import { loadConfig } from '../src/config/env.js';
import { createDb, migrateLatest } from '../src/db/index.js';
import { createLogger } from '../src/logger.js';
import { User } from '../src/models/index.js';
import { startHttpServer } from '../src/server.js';
import { percentile, report as line, round, scratchDatabase } from './lib/harness.js';

async function timed(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return out.sort((a, b) => a - b);
}

function report(figure: string, samples: number[], extra: Record<string, unknown> = {}) {
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  line(figure, {
    n: samples.length,
    p50_ms: round(percentile(samples, 50)),
    p99_ms: round(percentile(samples, 99)),
    mean_ms: round(mean),
    ...extra,
  });
}

const scratch = await scratchDatabase();
const config = loadConfig({ DATABASE_URL: scratch.url, LOG_LEVEL: 'silent', RATE_LIMIT_PER_MINUTE: '1000000' });
const db = createDb(config.databaseUrl!);
await migrateLatest(db);
const connection = Connection.lazy({ address: '127.0.0.1:1' }); // login and health never reach Temporal
const http = await startHttpServer({ config, db, temporal: new Client({ connection }), logger: createLogger('silent') }, 0, '127.0.0.1');
try {
  const stored = await hashPassword('bench password');
  report('argon2id_hash', await timed(20, () => hashPassword('bench password')), { params: 'm=19456 KiB, t=2, p=1' });
  report('argon2id_verify', await timed(20, () => verifyPassword(stored, 'bench password')));

  await User.query(db).insert({
    username: 'bench',
    email: 'bench@example.test',
    fullName: 'Bench',
    role: 'agent',
    isActive: true,
    passwordHash: stored,
  } as Partial<User>);
  const base = `http://127.0.0.1:${http.port}/api/v1`;
  const login = () =>
    fetch(`${base}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'bench', password: 'bench password' }),
    }).then((r) => {
      if (r.status !== 200) throw new Error(`login ${r.status}`);
      return r.arrayBuffer();
    });
  await timed(5, login); // warm-up
  report('health_latency_baseline', await timed(200, () => fetch(`${base}/health`).then((r) => r.arrayBuffer())));
  report('login_latency', await timed(50, login));
} finally {
  await http.close();
  await connection.close();
  await db.destroy();
  await scratch.drop();
}
