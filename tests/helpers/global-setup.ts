/**
 * Provisions what the suite needs, never touching .data/: its own PostgreSQL database (on the
 * server at TEST_DATABASE_URL, or an embedded PostgreSQL in a temp dir), migrated once; its own
 * in-memory Temporal dev server on a free port; and one workflow bundle every test file shares
 * (the one `npm run build` prebuilt when it is current, else bundled now — the worker's own rule).
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { createDb, migrateLatest } from '../../src/db/index.js';
import { createDatabaseIfMissing, startEmbeddedPostgres } from '../../src/dev/embedded-postgres.js';
import { startDevServer } from '../../src/dev/temporal-dev-server.js';
import { DEFAULT_WORKFLOW_BUNDLE_PATH, loadWorkflowBundle } from '../../src/temporal/workflow-bundle.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    /** a URL on the same server with rights to create databases (for migration tests) */
    adminDatabaseUrl: string;
    temporalAddress: string;
    workflowBundlePath: string;
  }
}

export default async function setup(project: TestProject) {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'servicemeow-test-'));
  await chmod(tmp, 0o755); // run as root, the embedded PostgreSQL's own user must enter it
  const cleanups: (() => Promise<void>)[] = [() => rm(tmp, { recursive: true, force: true })];
  const teardown = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((err) => console.error('cleanup failed:', err));
  };
  try {
    await provision(project, tmp, cleanups);
  } catch (err) {
    await teardown();
    throw err;
  }
  return teardown;
}

async function provision(project: TestProject, tmp: string, cleanups: (() => Promise<void>)[]): Promise<void> {
  let adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    const embedded = await startEmbeddedPostgres({ dataDir: path.join(tmp, 'pg'), database: 'postgres' });
    cleanups.push(embedded.stop);
    adminUrl = embedded.url;
  }
  const database = `servicemeow_test_${randomBytes(4).toString('hex')}`;
  await createDatabaseIfMissing(adminUrl, database);
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  const databaseUrl = url.toString();
  cleanups.push(() => dropDatabase(adminUrl, database));

  const db = createDb(databaseUrl);
  await migrateLatest(db);
  await db.destroy();

  const [temporal, bundle] = await Promise.all([
    startDevServer({ readyTimeoutMs: 120_000 }),
    loadWorkflowBundle(DEFAULT_WORKFLOW_BUNDLE_PATH, { info: noop, warn: noop }, quietLogger).then((loaded) => loaded.bundle),
  ]);
  cleanups.push(temporal.stop);
  const workflowBundlePath = path.join(tmp, 'workflow-bundle.js');
  await writeFile(workflowBundlePath, bundle.code);

  project.provide('databaseUrl', databaseUrl);
  project.provide('adminDatabaseUrl', adminUrl);
  project.provide('temporalAddress', temporal.address);
  project.provide('workflowBundlePath', workflowBundlePath);
}

async function dropDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(database)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: (m: string) => console.error(m), log: noop };
