/** A freshly migrated database of a test file's own, for tests that change global settings. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createDb, migrateLatest } from '../../src/db/index.js';
import { createDatabaseIfMissing } from '../../src/dev/embedded-postgres.js';

export interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function scratchDatabase(prefix: string): Promise<ScratchDatabase> {
  const admin = inject('adminDatabaseUrl');
  const name = `servicemeow_${prefix}_${randomBytes(4).toString('hex')}`;
  await createDatabaseIfMissing(admin, name);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const db = createDb(url.toString(), { min: 0, max: 2 });
  await migrateLatest(db);
  await db.destroy();
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: admin });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      await client.end();
    },
  };
}
