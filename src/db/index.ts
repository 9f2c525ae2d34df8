/**
 * The knex instance and Objection binding. Created explicitly by each process entry (never at
 * import time) so tests can point it at their own database.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import knexFactory, { type Knex } from 'knex';
import { knexSnakeCaseMappers, Model } from 'objection';
import pg from 'pg';

// Return BIGINT (counts, bigIncrements) as numbers: every value we store fits in 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export type Db = Knex;

const here = path.dirname(fileURLToPath(import.meta.url));
/** Where the migration files live, both when run from source (.ts) and from a build (.js). */
export const MIGRATIONS_DIR = path.resolve(here, '../../migrations');
const MIGRATION_EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/** Options shared by the app, the knexfile and the tests. */
export function knexConfig(databaseUrl: string, pool: { min: number; max: number } = { min: 0, max: 10 }): Knex.Config {
  return {
    client: 'pg',
    connection: databaseUrl,
    pool,
    // camelCase in code, snake_case in SQL: identifiers in queries and keys in results
    ...knexSnakeCaseMappers(),
    migrations: { directory: MIGRATIONS_DIR, loadExtensions: [MIGRATION_EXT], tableName: 'knex_migrations' },
  };
}

/** A knex instance with Objection models bound to it. */
export function createDb(databaseUrl: string, pool?: { min: number; max: number }): Db {
  const db = knexFactory(knexConfig(databaseUrl, pool));
  Model.knex(db);
  return db;
}

/** Apply every pending migration; returns the names applied. */
export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest()) as [number, string[]];
  return applied;
}
