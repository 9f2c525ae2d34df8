/** Shared by benchmarks: a scratch database (BENCH_DATABASE_URL's server or embedded), load loops, JSON lines. */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createDatabaseIfMissing, startEmbeddedPostgres } from '../../src/dev/embedded-postgres.js';

export interface ScratchDatabase {
  url: string;
  tmp: string;
  drop(): Promise<void>;
}

export async function scratchDatabase(): Promise<ScratchDatabase> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'servicemeow-bench-'));
  await chmod(tmp, 0o755);
  let adminUrl = process.env.BENCH_DATABASE_URL;
  const embedded = adminUrl ? null : await startEmbeddedPostgres({ dataDir: path.join(tmp, 'pg'), database: 'postgres' });
  adminUrl ??= embedded!.url;
  const database = `servicemeow_bench_${randomBytes(4).toString('hex')}`;
  await createDatabaseIfMissing(adminUrl, database);
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return {
    url: url.toString(),
    tmp,
    drop: async () => {
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(database)} WITH (FORCE)`);
      await admin.end();
      await embedded?.stop();
      await rm(tmp, { recursive: true, force: true });
    },
  };
}

export const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
export const round = (n: number, places = 2) => Math.round(n * 10 ** places) / 10 ** places;

export interface LoadResult {
  n: number;
  concurrency: number;
  per_second: number;
  p50_ms: number;
  p99_ms: number;
}

/** Run `fn(i)` n times with `concurrency` in flight; latencies per call and throughput overall. */
export async function load(n: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<LoadResult> {
  const latencies: number[] = [];
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const t = process.hrtime.bigint();
        await fn(i);
        latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  return { n, concurrency, per_second: round(n / seconds, 1), p50_ms: round(percentile(latencies, 50)), p99_ms: round(percentile(latencies, 99)) };
}

export function report(figure: string, fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ figure, ...fields }));
}
