/**
 * PostgreSQL refuses to run as root, so as root the embedded server runs as a `postgres` system
 * user — which must be able to reach its binaries and its data directory. A checkout under a
 * directory that user cannot traverse (`/root`, mode 0700, the default in many containers) holds
 * both out of reach. Then the binaries are run from a copy, and the cluster lives in a directory of
 * its own, both under a root-owned 0755 directory (`/var/lib/servicemeow` by default); the
 * checkout's `.data/pg` becomes a link to it, so deleting `.data/` still starts from scratch.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, cp, lstat, mkdir, readdir, readlink, rename, rm, rmdir, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

/** A failure with a one-line explanation of what to do; entries print its message without a stack. */
export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

export interface Account {
  uid: number;
  gid: number;
}

/** Where binaries and relocated clusters go when the checkout is out of the `postgres` user's reach. */
export const DEFAULT_RUNTIME_ROOT = '/var/lib/servicemeow';

const run = promisify(execFile);
const SEARCH = { owner: 0o100, group: 0o010, other: 0o001 } as const;

/** The `postgres` system user's ids; the user (and group) are created when missing. */
export async function postgresAccount(log: (msg: string) => void): Promise<Account> {
  const lookup = async () => {
    const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  };
  try {
    return await lookup();
  } catch {
    log('creating the system user `postgres` to run the embedded PostgreSQL (it refuses to run as root)');
    try {
      await run('groupadd', ['--system', 'postgres']).catch(() => undefined); // may exist without the user
      await run('useradd', ['--system', '--gid', 'postgres', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
      return await lookup();
    } catch (err) {
      throw new EmbeddedPostgresError(
        `Running as root, the embedded PostgreSQL needs a system user \`postgres\`, and creating one failed (${oneLine(err)}): create it (useradd --system postgres), run as another user, or set DATABASE_URL.`,
      );
    }
  }
}

/**
 * The first directory on the way to `target` (itself included) that `account` may not search,
 * judged by owner/group/other mode bits — or null when every existing component is searchable. Only
 * the primary group counts: Node drops supplementary groups when it spawns with another uid.
 */
export async function blockedAt(target: string, account: Account): Promise<string | null> {
  const parts = path.resolve(target).split(path.sep).filter(Boolean);
  let dir: string = path.sep;
  for (let i = 0; i <= parts.length; i++) {
    if (i > 0) dir = path.join(dir, parts[i - 1]!);
    const st = await stat(dir).catch(() => null);
    if (!st) return null; // the rest does not exist yet: whoever creates it decides
    if (!st.isDirectory()) continue;
    const bit = st.uid === account.uid ? SEARCH.owner : st.gid === account.gid ? SEARCH.group : SEARCH.other;
    if ((st.mode & bit) === 0) return dir;
  }
  return null;
}

/** Whether `account` can execute `binary` (a real exec of `--version`: ACLs and mount flags count too). */
export async function canExecute(binary: string, account: Account): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(binary, ['--version'], { uid: account.uid, gid: account.gid, stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
}

/**
 * `runtimeRoot`, created if missing, refused unless it is a real directory owned by root that
 * nobody else may write (so nobody can swap the binaries or a cluster under us), and reachable.
 */
export async function ensureRuntimeRoot(runtimeRoot: string, account: Account): Promise<void> {
  await mkdirReachable(runtimeRoot);
  const st = await lstat(runtimeRoot);
  if (!st.isDirectory() || st.uid !== 0 || (st.mode & 0o022) !== 0) {
    throw new EmbeddedPostgresError(
      `${runtimeRoot} must be a directory owned by root and writable only by root (it holds the embedded PostgreSQL's binaries and data): fix or remove it, or set DATABASE_URL.`,
    );
  }
  const blocked = await blockedAt(runtimeRoot, account);
  if (blocked) {
    throw new EmbeddedPostgresError(
      `The postgres user cannot enter ${blocked} (on the way to ${runtimeRoot}): chmod o+x ${blocked}, or set DATABASE_URL.`,
    );
  }
}

/**
 * A copy of the platform package's `native` tree (bin, lib, share: PostgreSQL finds its libraries
 * and share files relative to its own binary) under `runtimeRoot`, made once per version.
 */
export async function copyBinaries(nativeDir: string, version: string, runtimeRoot: string, log: (msg: string) => void): Promise<string> {
  const dest = path.join(runtimeRoot, `postgres-${version}-${process.platform}-${process.arch}`);
  if (await exists(path.join(dest, 'bin', 'postgres'))) return dest;
  log(`copying the PostgreSQL binaries to ${dest} (the postgres user cannot reach ${nativeDir})`);
  const partial = `${dest}.partial-${randomBytes(4).toString('hex')}`;
  try {
    await cp(nativeDir, partial, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    await rename(partial, dest); // atomic: a directory at `dest` is always complete
  } catch (err) {
    await rm(partial, { recursive: true, force: true });
    if (!(await exists(path.join(dest, 'bin', 'postgres')))) throw err; // else a concurrent start won the race
  }
  return dest;
}

/**
 * Where the cluster for `dataDir` lives when the postgres user cannot reach `dataDir`: a directory
 * under `runtimeRoot/clusters` keyed by the checkout's path, linked from `dataDir`. A key directory
 * without that link is the cluster of a `.data/` someone deleted: it is removed, so the next start
 * begins empty, as it does without relocation (and as the dev server's `.data/temporal.db` does).
 */
export async function relocatedDataDir(
  dataDir: string,
  runtimeRoot: string,
  account: Account,
  log: (msg: string) => void,
): Promise<string> {
  const home = path.join(runtimeRoot, 'clusters', clusterKey(dataDir));
  const target = path.join(home, 'pg');
  const existing = await lstat(dataDir).catch(() => null);
  if (existing?.isSymbolicLink()) {
    const linked = path.resolve(path.dirname(dataDir), await readlink(dataDir));
    if (linked === target) return target;
    const blocked = await blockedAt(linked, account);
    if (!blocked) return linked; // a link the operator made to a reachable place: use it
    throw new EmbeddedPostgresError(
      `${dataDir} links to ${linked}, which the postgres user cannot reach (${blocked} is closed to it): point it elsewhere, remove it, or set DATABASE_URL.`,
    );
  }
  if (existing) {
    if (!existing.isDirectory() || !(await isEmptyDir(dataDir))) {
      const hint = `mkdir -p ${home} && mv ${dataDir} ${target} && ln -s ${target} ${dataDir}`;
      throw new EmbeddedPostgresError(
        `The embedded PostgreSQL's data in ${dataDir} is out of the postgres user's reach (${await blockedAt(dataDir, account)} is closed to it): move it (${hint}), move the checkout somewhere that user can enter, or set DATABASE_URL.`,
      );
    }
    await rmdir(dataDir); // left empty by an earlier start that failed here
  }
  if (await exists(home)) {
    log(`removing ${home}: the cluster of a deleted ${dataDir}`);
    await rm(home, { recursive: true, force: true });
  }
  await mkdirReachable(home);
  await mkdir(path.dirname(dataDir), { recursive: true });
  await symlink(target, dataDir);
  log(`the postgres user cannot reach ${dataDir}: the cluster lives in ${target} (${dataDir} links to it)`);
  return target;
}

/** A stable, readable directory name for a checkout's data directory. */
export function clusterKey(dataDir: string): string {
  const resolved = path.resolve(dataDir);
  const project =
    path
      .basename(path.dirname(path.dirname(resolved)))
      .replace(/[^A-Za-z0-9_.-]/g, '_')
      .slice(0, 40) || 'root';
  return `${project}-${createHash('sha256').update(resolved).digest('hex').slice(0, 12)}`;
}

/** mkdir -p, each directory it creates mode 0755 whatever the umask (root's may be 077). */
async function mkdirReachable(dir: string): Promise<void> {
  const parts = path.resolve(dir).split(path.sep).filter(Boolean);
  let current: string = path.sep;
  for (const part of parts) {
    current = path.join(current, part);
    try {
      await mkdir(current, { mode: 0o755 });
      await chmod(current, 0o755);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

async function isEmptyDir(dir: string): Promise<boolean> {
  return (await readdir(dir)).length === 0;
}

function oneLine(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  return (e.stderr?.trim() || e.message || String(err)).split('\n')[0]!;
}
