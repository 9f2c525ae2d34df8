/**
 * `npm run build`'s last step (after `tsc`): bundle the workflow code once, ahead of time, into
 * dist/workflow-bundle.js (or `--out <file>`) with its manifest, so workers start in seconds.
 */
import path from 'node:path';
import { buildWorkflowBundle, DEFAULT_WORKFLOW_BUNDLE_PATH } from '../temporal/workflow-bundle.js';
import { runMain } from './lifecycle.js';

runMain(async () => {
  const at = process.argv.indexOf('--out');
  const out = at > 0 && process.argv[at + 1] ? path.resolve(process.argv[at + 1]!) : DEFAULT_WORKFLOW_BUNDLE_PATH;
  const started = Date.now();
  const manifest = await buildWorkflowBundle(out);
  console.log(`Workflow bundle written to ${out} in ${Date.now() - started} ms (built from: ${Object.keys(manifest.inputs).join(', ')}).`);
});
