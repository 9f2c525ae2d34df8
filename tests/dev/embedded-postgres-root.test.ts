/**
 * `npm start` as root from a checkout the `postgres` user cannot enter (a clone in /root, mode
 * 0700): the embedded PostgreSQL must still start — binaries copied, cluster relocated under a
 * root-owned 0755 directory and linked from .data/pg — or stop with one line saying what to do.
 * Runs the real code from a copy of this checkout inside a 0700 directory (node_modules hard-linked
 * when the file system allows).
 */
import { execFile, spawn } from 'node:child_process';
import { chmod, cp, lstat, mkdir, mkdtemp, readlink, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockedAt, clusterKey, postgresAccount } from '../../src/dev/postgres-access.js';

const repo = path.resolve(import.meta.dirname, '../..');
const isRoot = process.getuid?.() === 0;

// The entry a checkout runs, reduced to the embedded PostgreSQL: start, print, stop on a line on stdin.
const SCRIPT = `
import { startEmbeddedPostgres } from './src/dev/embedded-postgres.js';
import { runMain } from './src/main/lifecycle.js';
runMain(async () => {
  const server = await startEmbeddedPostgres({ dataDir: '.data/pg', database: 'servicemeow', runtimeRoot: process.env.RUNTIME_ROOT, log: (m) => console.log('NOTE ' + m) });
  console.log('READY ' + JSON.stringify({ url: server.url, dataDir: server.dataDir }));
  process.stdin.once('data', () => void server.stop().then(() => process.exit(0)));
});
`;

interface Started {
  url: string;
  dataDir: string;
  output: string;
  stop(): Promise<void>;
}

describe.skipIf(!isRoot)(
  'embedded PostgreSQL as root from a directory the postgres user cannot enter (skipped: not running as root)',
  () => {
    let closed: string; // mode 0700, like /root
    let checkout: string;
    let runtimeRoot: string; // stands in for /var/lib/servicemeow

    beforeAll(async () => {
      closed = await mkdtemp(path.join(os.tmpdir(), 'servicemeow-root-home-'));
      await chmod(closed, 0o700);
      checkout = path.join(closed, 'servicemeow');
      await mkdir(checkout);
      const modules = [path.join(repo, 'node_modules'), path.join(checkout, 'node_modules')];
      // hard links (a second) where the temp dir shares node_modules' file system, else a real copy
      await promisify(execFile)('cp', ['-al', ...modules]).catch(async () => {
        await rm(modules[1]!, { recursive: true, force: true });
        await promisify(execFile)('cp', ['-a', ...modules]);
      });
      for (const entry of ['src', 'workflows', 'activities', 'migrations', 'package.json', 'tsconfig.json']) {
        await cp(path.join(repo, entry), path.join(checkout, entry), { recursive: true });
      }
      await writeFile(path.join(checkout, 'start-pg.mts'), SCRIPT);
      runtimeRoot = await mkdtemp(path.join(os.tmpdir(), 'servicemeow-runtime-'));
      await chmod(runtimeRoot, 0o755);
    }, 180_000);

    afterAll(async () => {
      if (closed) await rm(closed, { recursive: true, force: true });
      if (runtimeRoot) await rm(runtimeRoot, { recursive: true, force: true });
    });

    /** Run the script in the closed checkout until READY (or until it exits). */
    function start(): Promise<Started> {
      const child = spawn(process.execPath, ['--import', 'tsx', 'start-pg.mts'], {
        cwd: checkout,
        env: { ...process.env, RUNTIME_ROOT: runtimeRoot },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let output = '';
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      return new Promise((resolve, reject) => {
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          const ready = /^READY (.*)$/m.exec(output);
          if (ready) {
            const { url, dataDir } = JSON.parse(ready[1]!) as { url: string; dataDir: string };
            resolve({
              url,
              dataDir,
              output,
              stop: async () => {
                child.stdin.write('stop\n');
                expect(await exited).toBe(0);
              },
            });
          }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        void exited.then((code) => reject(Object.assign(new Error(`exited ${code}:\n${output}`), { output, code })));
      });
    }

    const query = async (url: string, sql: string) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query(sql)).rows as Record<string, unknown>[];
      } finally {
        await client.end();
      }
    };

    it('the set-up really is out of reach: the postgres user cannot enter the checkout', async () => {
      const account = await postgresAccount(() => undefined);
      expect(await blockedAt(path.join(checkout, 'node_modules'), account)).not.toBeNull();
    });

    it('starts from copied binaries with the cluster relocated and linked from .data/pg, and keeps data across restarts', async () => {
      const cluster = path.join(runtimeRoot, 'clusters', clusterKey(path.join(checkout, '.data', 'pg')), 'pg');
      let server = await start();
      try {
        expect(server.dataDir).toBe(cluster);
        expect(server.output).toMatch(/copying the PostgreSQL binaries/);
        expect((await lstat(path.join(checkout, '.data', 'pg'))).isSymbolicLink()).toBe(true);
        expect(await readlink(path.join(checkout, '.data', 'pg'))).toBe(cluster);
        await query(server.url, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')");
      } finally {
        await server.stop();
      }

      server = await start(); // binaries already copied, cluster found through the link
      try {
        expect(server.output).not.toMatch(/copying/);
        expect(await query(server.url, 'SELECT v FROM kept')).toEqual([{ v: 'still here' }]);
      } finally {
        await server.stop();
      }
    }, 240_000);

    it('deleting .data/ starts from an empty cluster, as without relocation', async () => {
      await rm(path.join(checkout, '.data'), { recursive: true, force: true });
      const server = await start();
      try {
        expect(server.output).toMatch(/removing .*the cluster of a deleted/);
        expect(await query(server.url, "SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'kept'")).toEqual([{ n: 0 }]);
      } finally {
        await server.stop();
      }
    }, 240_000);

    it('an empty .data/pg left by a start that failed before this fix is taken over', async () => {
      await rm(path.join(checkout, '.data'), { recursive: true, force: true });
      await mkdir(path.join(checkout, '.data', 'pg'), { recursive: true });
      const server = await start();
      try {
        expect((await lstat(path.join(checkout, '.data', 'pg'))).isSymbolicLink()).toBe(true);
      } finally {
        await server.stop();
      }
    }, 240_000);

    it('a real cluster directory out of reach is not moved: one line says exactly what to do', async () => {
      await rm(path.join(checkout, '.data'), { recursive: true, force: true });
      await mkdir(path.join(checkout, '.data', 'pg'), { recursive: true });
      await writeFile(path.join(checkout, '.data', 'pg', 'PG_VERSION'), '18\n');
      const failure = (await start().then(
        () => {
          throw new Error('started on a cluster it cannot reach');
        },
        (err: { output: string; code: number }) => err,
      )) as { output: string; code: number };
      expect(failure.code).toBe(1);
      const lines = failure.output.trim().split('\n');
      expect(lines).toHaveLength(1); // no stack trace
      expect(lines[0]).toMatch(
        /out of the postgres user's reach .*is closed to it\): move it \(mkdir -p .* && mv .* && ln -s .*\).*set DATABASE_URL/,
      );
    }, 120_000);
  },
);
