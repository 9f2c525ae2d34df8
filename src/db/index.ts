/**
 * The knex instance and Objection binding. Created explicitly by each process entry (never at
 * import time) so tests can point it at their own database.
 */
import knexFactory, { type Knex } from 'knex';
import { knexSnakeCaseMappers, Model } from 'objection';
import pg from 'pg';
import type { Logger } from 'pino';
import { migrationSource } from '../../migrations/index.js';

// Return BIGINT (counts, bigIncrements) as numbers: every value we store fits in 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export type Db = Knex;

/** Options shared by the app, the knexfile and the tests. */
export function knexConfig(databaseUrl: string, pool: { min: number; max: number } = { min: 0, max: 10 }, logger?: Logger): Knex.Config {
  return {
    client: 'pg',
    // knex prints to the console by default; ours are JSON lines (and silent without a logger)
    log: {
      warn: (m: unknown) => logger?.warn({ component: 'knex' }, String(m)),
      error: (m: unknown) => logger?.error({ component: 'knex' }, String(m)),
      deprecate: (m: unknown) => logger?.warn({ component: 'knex' }, String(m)),
      debug: () => undefined,
    },
    connection: databaseUrl,
    pool,
    // camelCase in code, snake_case in SQL: identifiers in queries and keys in results
    ...knexSnakeCaseMappers(),
    migrations: { migrationSource, tableName: 'knex_migrations' },
  };
}

/** A knex instance with Objection models bound to it. */
export function createDb(databaseUrl: string, pool?: { min: number; max: number }, logger?: Logger): Db {
  const db = knexFactory(knexConfig(databaseUrl, pool, logger));
  Model.knex(db);
  return db;
}

/** Apply every pending migration; returns the names applied. */
export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest()) as [number, string[]];
  return applied;
}
