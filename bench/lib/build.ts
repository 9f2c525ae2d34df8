/**
 * The image's build, made into a scratch directory: `tsc` with the build config, then the workflow
 * bundle from the compiled entry (`<dist>/workflow-bundle.js`), as `npm run build` does. The
 * directory should sit inside node_modules, so the compiled entries resolve this checkout's packages.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const repo = path.resolve(import.meta.dirname, '../..');
const run = (args: string[]) => promisify(execFile)(process.execPath, args, { cwd: repo });

/** Compiles into `dist`, and bundles the workflows there unless `bundle` is false; milliseconds each step took. */
export async function buildCompiled(dist: string, bundle = true): Promise<{ tscMs: number; bundleMs: number | null }> {
  let t = performance.now();
  await run([path.join(repo, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', dist]);
  const tscMs = Math.round(performance.now() - t);
  if (!bundle) return { tscMs, bundleMs: null };
  t = performance.now();
  await run([path.join(dist, 'src/main/bundle-workflows.js')]);
  return { tscMs, bundleMs: Math.round(performance.now() - t) };
}
