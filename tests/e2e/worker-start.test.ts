/**
 * Workers start from the workflow bundle built ahead (`npm run build` → dist/workflow-bundle.js)
 * instead of bundling with webpack at every start; a missing, stale or damaged bundle is never
 * used — the worker bundles from source, says why, and works the same. And `/ready?workers=required`
 * tells a deploy script when a worker polls (plain `/ready` is the API's own readiness).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ticket } from '../../src/models/index.js';
import { inputsFingerprint, prebuiltBundleStatus, WORKFLOWS_PATH, type BundleManifest } from '../../src/temporal/workflow-bundle.js';
import { eventually } from '../helpers/eventually.js';
import { ensureSlaPolicies, signedIn } from '../helpers/factories.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';
import { kill, workerEnv } from '../helpers/processes.js';

const repo = path.resolve(import.meta.dirname, '../..');

let h: Harness;
let tmp: string;
let built: string; // a bundle made by the build step, for this checkout's sources
beforeAll(async () => {
  h = await startHarness({ worker: false });
  await ensureSlaPolicies(h.db);
  tmp = await mkdtemp(path.join(os.tmpdir(), 'servicemeow-bundle-'));
  built = path.join(tmp, 'built', 'workflow-bundle.js');
  // the same builder `npm run build` runs (here from the TypeScript sources)
  await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/main/bundle-workflows.ts', '--out', built], { cwd: repo });
}, 240_000);
afterAll(async () => {
  await h?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

interface WorkerProcess {
  child: ChildProcess;
  output(): string;
}

/** `start:worker` as a process, with WORKFLOW_BUNDLE_PATH; resolves once it polls. */
async function startWorker(bundlePath: string): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main/worker.ts'], {
    cwd: repo,
    env: { ...process.env, ...workerEnv(h, { WORKFLOW_BUNDLE_PATH: bundlePath }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const proc = { child, output: () => out };
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`worker exited ${child.exitCode}:\n${out}`);
      return /worker running/.test(out);
    },
    180_000,
    100,
  );
  return proc;
}

const logLine = (proc: WorkerProcess, msg: string) =>
  proc
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l.msg === msg);

/** A ticket created through the API lands in PostgreSQL: a worker ran its workflow and write. */
async function processesATicket(title: string): Promise<void> {
  const { token } = await signedIn(h, 'admin');
  const res = await call(h, 'POST', '/api/v1/tickets', { token, body: { title, priority: 'low' } });
  expect([201, 202]).toContain(res.status); // 202 only if the loaded machine is slow; the row must still come
  await eventually(async () => (await Ticket.query(h.db).findById(res.body.id))?.title === title, 60_000);
}

async function variant(
  name: string,
  change: (manifest: BundleManifest, code: string) => { manifest: BundleManifest; code: string },
): Promise<string> {
  const dir = path.join(tmp, name);
  await cp(path.dirname(built), dir, { recursive: true });
  const file = path.join(dir, 'workflow-bundle.js');
  const manifestFile = path.join(dir, 'workflow-bundle.json');
  const changed = change(JSON.parse(await readFile(manifestFile, 'utf8')) as BundleManifest, await readFile(file, 'utf8'));
  await writeFile(manifestFile, JSON.stringify(changed.manifest));
  await writeFile(file, changed.code);
  return file;
}

describe('the prebuilt workflow bundle', () => {
  it('a worker process loads the current prebuilt bundle (no bundling at start) and processes a ticket', async () => {
    expect(await prebuiltBundleStatus(built)).toMatchObject({ usable: true });
    // nobody polls this file's task queue yet: ready for reads and 202s, not with workers required
    expect((await call(h, 'GET', '/api/v1/ready')).status).toBe(200);
    const early = await call(h, 'GET', '/api/v1/ready?workers=required');
    expect(early.status).toBe(503);
    expect(early.body.error.details.checks).toMatchObject({
      database: 'ok',
      temporal: 'ok',
      workers: expect.stringMatching(/^unavailable: no worker polls/),
    });
    const worker = await startWorker(built);
    try {
      expect(logLine(worker, 'using the prebuilt workflow bundle')).toMatchObject({ bundle: built });
      expect(logLine(worker, 'workflow code bundled')).toBeUndefined();
      expect(logLine(worker, 'worker running')).toMatchObject({ prebuilt_bundle: true, startup_ms: expect.any(Number) });
      const ready = await eventually(async () => {
        const res = await call(h, 'GET', '/api/v1/ready?workers=required');
        return res.status === 200 && res;
      }, 30_000);
      expect(ready.body).toEqual({ status: 'ready', checks: { database: 'ok', temporal: 'ok', workers: 'ok' } });
      await processesATicket('Served by a prebuilt bundle');
    } finally {
      await kill(worker.child);
    }
  }, 240_000);

  it('rejects an unknown ?workers= value with a 422 naming it', async () => {
    const res = await call(h, 'GET', '/api/v1/ready?workers=maybe');
    expect(res.status).toBe(422);
    expect(JSON.stringify(res.body.error.details)).toContain('workers');
  });

  it('a stale bundle (workflow code changed since the build) is not used: the worker bundles from source, says why, and works', async () => {
    const stale = await variant('stale', (manifest, code) => ({ manifest: { ...manifest, inputs: { source: '0'.repeat(64) } }, code }));
    const worker = await startWorker(stale);
    try {
      expect(logLine(worker, 'using the prebuilt workflow bundle')).toBeUndefined();
      expect(
        logLine(worker, 'no current prebuilt workflow bundle: bundling the workflow code now (slow; `npm run build` builds it ahead)'),
      ).toMatchObject({
        reason: expect.stringMatching(/^stale:/),
      });
      expect(logLine(worker, 'worker running')).toMatchObject({ prebuilt_bundle: false });
      await processesATicket('Served after a fallback');
    } finally {
      await kill(worker.child);
    }
  }, 240_000);

  it('is judged unusable when missing, damaged, or built for the other way of running', async () => {
    expect(await prebuiltBundleStatus(path.join(tmp, 'nowhere', 'workflow-bundle.js'))).toMatchObject({
      usable: false,
      reason: expect.stringMatching(/does not exist/),
    });
    const truncated = await variant('truncated', (manifest, code) => ({ manifest, code: code.slice(0, code.length / 2) }));
    expect(await prebuiltBundleStatus(truncated)).toMatchObject({
      usable: false,
      reason: expect.stringMatching(/does not match its manifest/),
    });
    const compiledOnly = await variant('compiled-only', (manifest, code) => ({
      manifest: { ...manifest, inputs: { compiled: manifest.inputs.source! } },
      code,
    }));
    expect(await prebuiltBundleStatus(compiledOnly)).toMatchObject({
      usable: false,
      reason: expect.stringMatching(/not built from the TypeScript sources/),
    });
    const garbage = await variant('garbage', (_manifest, code) => ({ manifest: 'not json' as unknown as BundleManifest, code }));
    await writeFile(garbage.replace(/\.js$/, '.json'), '{ not json');
    expect(await prebuiltBundleStatus(garbage)).toMatchObject({ usable: false, reason: expect.stringMatching(/unreadable manifest/) });
  });

  it('the fingerprint follows every workflow file', async () => {
    const copy = path.join(tmp, 'workflows-copy');
    await cp(path.dirname(WORKFLOWS_PATH), copy, { recursive: true });
    const before = await inputsFingerprint(copy);
    expect(await inputsFingerprint(copy)).toBe(before);
    const clock = path.join(copy, 'sla', 'clock.ts');
    await writeFile(clock, `${await readFile(clock, 'utf8')}\n// a change\n`);
    expect(await inputsFingerprint(copy)).not.toBe(before);
  });
});
