/** Shared by benchmarks: a scratch database (BENCH_DATABASE_URL's server or embedded), load loops, JSON lines. */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createDatabaseIfMissing, startEmbeddedPostgres } from '../../src/dev/embedded-postgres.js';

export interface ScratchDatabase {
  url: string;
  /** the server's admin URL (BENCH_DATABASE_URL or the embedded PostgreSQL), for Temporal's databases */
  adminUrl: string;
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
    adminUrl,
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
  /** HTTP statuses (or whatever number the call returned), counted: a 202 or a 503 is data, not a crash */
  statuses?: Record<string, number>;
  /** calls that threw (network errors, refused starts), counted; the first message as a sample */
  errors?: number;
  first_error?: string;
}

/**
 * Run `fn(i)` n times with `concurrency` in flight; latencies per call and throughput overall.
 * `fn` may return a status to be counted; a call that throws is counted and timed too, and never
 * aborts the run (a benchmark on a slow or restarting engine reports what it saw).
 */
export async function load(n: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<LoadResult> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const t = process.hrtime.bigint();
        try {
          const out = await fn(i);
          if (typeof out === 'number') statuses[out] = (statuses[out] ?? 0) + 1;
        } catch (err) {
          errors++;
          firstError ??= String((err as Error)?.message ?? err).slice(0, 300);
        }
        latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  return {
    n,
    concurrency,
    per_second: round(n / seconds, 1),
    p50_ms: round(percentile(latencies, 50)),
    p99_ms: round(percentile(latencies, 99)),
    ...(Object.keys(statuses).length ? { statuses } : {}),
    ...(errors ? { errors, first_error: firstError } : {}),
  };
}

/** BENCH_ENGINE: which Temporal the benchmarks run on — `dev` (the CLI's dev server, default) or `postgres`. */
export const benchEngine = (): 'dev' | 'postgres' => {
  const v = process.env.BENCH_ENGINE ?? 'dev';
  if (v !== 'dev' && v !== 'postgres') throw new Error(`BENCH_ENGINE: must be "dev" or "postgres" (got "${v}")`);
  return v;
};

/** One JSON line per figure, labelled with the engine it was measured on. */
export function report(figure: string, fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ figure, engine: benchEngine(), ...fields }));
}
