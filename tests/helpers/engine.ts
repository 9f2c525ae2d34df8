/**
 * A Temporal server on PostgreSQL of a test file's own: its two databases get random names on the
 * suite's PostgreSQL server and are dropped by stop(), so nothing collides with anything.
 * Availability: the binaries are found or Go can build them; otherwise the file skips outside CI
 * and fails in CI (`CI=true`), where .ci/run installs them first.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { inject } from 'vitest';
import {
  dropEngineDatabases,
  findEngineBinaries,
  startPostgresEngine,
  type RunningPostgresEngine,
} from '../../src/dev/temporal-postgres.js';

export interface TestEngine extends RunningPostgresEngine {
  /** stop the server, drop its databases, remove its directory */
  destroy(): Promise<void>;
}

/** Why the engine cannot run here (no binaries and no Go), or undefined when it can. */
export async function engineUnavailable(): Promise<string | undefined> {
  if (await findEngineBinaries().catch(() => undefined)) return undefined;
  try {
    await promisify(execFile)('go', ['version']);
    return undefined; // startPostgresEngine builds them
  } catch {
    return 'Temporal server binaries not found and no Go toolchain to build them (.ci/run installs them)';
  }
}

export async function startTestEngine(opts: { log?: (m: string) => void } = {}): Promise<TestEngine> {
  const adminUrl = inject('adminDatabaseUrl');
  const database = `temporal_test_${randomBytes(4).toString('hex')}`;
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'servicemeow-engine-'));
  await chmod(workDir, 0o755);
  let engine: RunningPostgresEngine;
  try {
    engine = await startPostgresEngine({
      adminUrl,
      database,
      workDir,
      readyTimeoutMs: 180_000,
      log: opts.log ?? ((m) => console.error(m)),
    });
  } catch (err) {
    await dropEngineDatabases(adminUrl, { main: database, visibility: `${database}_visibility` }).catch(() => undefined);
    await rm(workDir, { recursive: true, force: true });
    throw err;
  }
  return {
    ...engine,
    async destroy() {
      await engine.stop();
      await dropEngineDatabases(adminUrl, engine.databases);
      await rm(workDir, { recursive: true, force: true });
    },
  };
}
