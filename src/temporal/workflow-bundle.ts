/**
 * The workflow bundle, built ahead of time: bundling the workflow code with webpack at worker start
 * took 15–46 s on a loaded machine, a window in which creates answer 202. `npm run build` (and so
 * the Docker image) writes `dist/workflow-bundle.js` and a manifest beside it; a worker uses that
 * file when it is current — built from the very workflow files this process would bundle, with the
 * same SDK and luxon versions, and intact — and otherwise bundles at start, saying why in a log line.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, type Logger as TemporalLogger } from '@temporalio/worker';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Compiled output of `npm run build` (dist/src/temporal), or TypeScript under tsx (src/temporal). */
const mode: BundleMode = import.meta.url.endsWith('.ts') ? 'source' : 'compiled';
type BundleMode = 'source' | 'compiled';

/** The workflow entry the worker bundles (source under tsx, compiled output in a build). */
export const WORKFLOWS_PATH = path.resolve(here, `../../workflows/index${mode === 'source' ? '.ts' : '.js'}`);
const WORKFLOWS_DIR = path.dirname(WORKFLOWS_PATH);
/** `dist/workflow-bundle.js`: beside the compiled code in a build, under `dist/` of the checkout under tsx. */
export const DEFAULT_WORKFLOW_BUNDLE_PATH = path.resolve(
  here,
  mode === 'source' ? '../../dist/workflow-bundle.js' : '../../workflow-bundle.js',
);

/** What `buildWorkflowBundle` writes beside the bundle (`<bundle>.json`). */
export interface BundleManifest {
  format: 1;
  /** sha256 of the bundle file: a truncated or replaced file is not used */
  codeSha256: string;
  /** fingerprint of the workflow files it was built from, per way of running (see `inputsFingerprint`) */
  inputs: Partial<Record<BundleMode, string>>;
  builtAt: string;
}

export type BundleStatus = { usable: true; code: string } | { usable: false; reason: string };

export interface LoadedBundle {
  bundle: { code: string };
  /** true when the prebuilt file was used, false when bundled at start */
  prebuilt: boolean;
  path: string;
  /** why the prebuilt file was not used */
  reason?: string;
  ms: number;
}

/**
 * The prebuilt bundle at `bundlePath` if it is current, else a bundle made now from the workflow
 * source. Never fails because of the prebuilt file: anything wrong with it means bundling.
 */
export async function loadWorkflowBundle(
  bundlePath: string,
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void },
  sdkLogger?: TemporalLogger,
): Promise<LoadedBundle> {
  const started = Date.now();
  const status = await prebuiltBundleStatus(bundlePath);
  if (status.usable) {
    const loaded = { bundle: { code: status.code }, prebuilt: true, path: bundlePath, ms: Date.now() - started };
    log.info({ bundle: bundlePath, ms: loaded.ms }, 'using the prebuilt workflow bundle');
    return loaded;
  }
  log.warn(
    { bundle: bundlePath, reason: status.reason },
    'no current prebuilt workflow bundle: bundling the workflow code now (slow; `npm run build` builds it ahead)',
  );
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: sdkLogger ?? quiet });
  const ms = Date.now() - started;
  log.info({ ms }, 'workflow code bundled');
  return { bundle: { code }, prebuilt: false, path: bundlePath, reason: status.reason, ms };
}

/** Whether the file at `bundlePath` may be used by this process, and why not. */
export async function prebuiltBundleStatus(bundlePath: string): Promise<BundleStatus> {
  let manifest: BundleManifest;
  try {
    manifest = JSON.parse(await readFile(manifestPath(bundlePath), 'utf8')) as BundleManifest;
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    return {
      usable: false,
      reason: missing ? `${manifestPath(bundlePath)} does not exist` : `unreadable manifest: ${(err as Error).message}`,
    };
  }
  if (manifest.format !== 1) return { usable: false, reason: `unknown manifest format ${String(manifest.format)}` };
  const built = manifest.inputs?.[mode];
  if (!built)
    return { usable: false, reason: `not built from the ${mode === 'source' ? 'TypeScript sources' : 'compiled code'} this process runs` };
  const current = await inputsFingerprint(WORKFLOWS_DIR);
  if (built !== current)
    return { usable: false, reason: `stale: ${WORKFLOWS_DIR} or the SDK changed since it was built (${manifest.builtAt})` };
  let code: string;
  try {
    code = await readFile(bundlePath, 'utf8');
  } catch (err) {
    return { usable: false, reason: `unreadable bundle: ${(err as Error).message}` };
  }
  if (sha256(code) !== manifest.codeSha256)
    return { usable: false, reason: 'the bundle file does not match its manifest (truncated or replaced)' };
  return { usable: true, code };
}

/**
 * Bundle the workflow code this process runs and write it, with its manifest, to `bundlePath`
 * (each written whole, then renamed). Run by `npm run build` right after `tsc` compiled the same
 * sources, so the manifest also vouches for them when both trees are there: then the TypeScript
 * entries (`npm start`) use the bundle too, until a workflow file changes.
 */
export async function buildWorkflowBundle(
  bundlePath: string = DEFAULT_WORKFLOW_BUNDLE_PATH,
  sdkLogger?: TemporalLogger,
): Promise<BundleManifest> {
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: sdkLogger ?? quiet });
  const inputs: BundleManifest['inputs'] = { [mode]: await inputsFingerprint(WORKFLOWS_DIR) };
  if (mode === 'compiled') {
    // dist/workflows was compiled from <checkout>/workflows by the tsc that ran just before
    const sources = path.resolve(WORKFLOWS_DIR, '../../workflows');
    if (existsSync(path.join(sources, 'index.ts'))) inputs.source = await inputsFingerprint(sources);
  }
  const manifest: BundleManifest = { format: 1, codeSha256: sha256(code), inputs, builtAt: new Date().toISOString() };
  await writeWhole(bundlePath, code);
  await writeWhole(manifestPath(bundlePath), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/**
 * A fingerprint of what a bundle is made of: every workflow file (names and contents; source maps
 * aside) and the versions of the packages bundled with them.
 */
export async function inputsFingerprint(workflowsDir: string): Promise<string> {
  const hash = createHash('sha256');
  const files = (await readdir(workflowsDir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile() && /\.(ts|js|mjs|cjs|json)$/.test(e.name) && !e.name.endsWith('.d.ts'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
  for (const file of files) {
    hash.update(`${path.relative(workflowsDir, file)}\0`);
    hash.update(await readFile(file));
    hash.update('\0');
  }
  for (const pkg of BUNDLED_PACKAGES) hash.update(`${pkg}@${packageVersion(pkg)}\0`);
  return hash.digest('hex');
}

/** What webpack puts in the bundle besides our files (and the bundler itself). */
const BUNDLED_PACKAGES = ['@temporalio/worker', '@temporalio/workflow', '@temporalio/common', 'luxon'];

function packageVersion(name: string): string {
  // walk up from the package's entry to its package.json (their `exports` hide it from require)
  let dir = path.dirname(createRequire(import.meta.url).resolve(name));
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name) return pkg.version ?? 'unknown';
    }
    const parent = path.dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

const manifestPath = (bundlePath: string) => bundlePath.replace(/\.js$/, '') + '.json';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

async function writeWhole(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const partial = `${file}.${randomBytes(4).toString('hex')}.partial`;
  try {
    await writeFile(partial, content);
    await rename(partial, file);
  } finally {
    await rm(partial, { force: true });
  }
}

const noop = () => undefined;
const quiet: TemporalLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: (m) => console.error(m), log: noop };
