/**
 * The Temporal a benchmark runs on, chosen by BENCH_ENGINE: `dev` (default) — the CLI's dev server
 * with a SQLite file in the scratch directory; `postgres` — the production engine (Temporal server
 * on PostgreSQL, src/dev/temporal-postgres.ts) with databases of its own on the benchmark's
 * PostgreSQL server, dropped on stop. BENCH_HISTORY_SHARDS and BENCH_TEMPORAL_MAX_CONNS tune the
 * latter (the shard count is fixed when its databases are created, so each run gets fresh ones).
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { startDevServer } from '../../src/dev/temporal-dev-server.js';
import { dropEngineDatabases, startPostgresEngine } from '../../src/dev/temporal-postgres.js';
import { benchEngine, type ScratchDatabase } from './harness.js';

export interface BenchTemporal {
  engine: 'dev' | 'postgres';
  address: string;
  /** the server's process id, for RSS sampling */
  pid: number | undefined;
  stop(): Promise<void>;
}

export async function startBenchTemporal(
  scratch: Pick<ScratchDatabase, 'adminUrl' | 'tmp'>,
  opts: { inMemory?: boolean } = {},
): Promise<BenchTemporal> {
  const engine = benchEngine();
  if (engine === 'dev') {
    const server = await startDevServer(opts.inMemory ? {} : { dbFilename: path.join(scratch.tmp, 'temporal.db') });
    return { engine, address: server.address, pid: server.pid, stop: server.stop };
  }
  const database = `temporal_bench_${randomBytes(4).toString('hex')}`;
  const num = (name: string) => (process.env[name] ? Number(process.env[name]) : undefined);
  const server = await startPostgresEngine({
    adminUrl: scratch.adminUrl,
    database,
    workDir: path.join(scratch.tmp, 'temporal-postgres'),
    tuning: {
      ...(num('BENCH_HISTORY_SHARDS') ? { historyShards: num('BENCH_HISTORY_SHARDS') } : {}),
      ...(num('BENCH_TEMPORAL_MAX_CONNS') ? { maxConns: num('BENCH_TEMPORAL_MAX_CONNS') } : {}),
    },
    readyTimeoutMs: 180_000,
  });
  return {
    engine,
    address: server.address,
    pid: server.pid(),
    async stop() {
      await server.stop();
      await dropEngineDatabases(scratch.adminUrl, server.databases);
    },
  };
}
