/**
 * Which behaviour changes a ticket run has, as one question: `isPatched(id)`.
 *
 * `ticketWorkflow` asks `patched(id)`: a new run records a marker (and an upsert of
 * TemporalChangeVersion) the first time it asks each id, and an old history replays the old path.
 * `ticketWorkflowV2` was introduced after every patch below: none of its histories can hold an older
 * path, so it implies them all and records no marker. A patch added later is not implied: a V2
 * history recorded before it must replay the old path, so V2 asks `patched` for it like V1 does
 * (add it here only under a new workflow type).
 *
 * The switch is module state, set once at the start of a V2 run. That is per workflow execution in
 * SDK 1.24: with `reuseV8Context` (the default) every workflow gets its own webpack module cache
 * (reusable-vm.js routes `__webpack_module_cache__` to the run's activator `moduleCache`; only
 * `bundlerOptions.preloadModules`, which this project does not use, are shared), and without it
 * every workflow gets its own V8 context. So a V1 run never sees a V2 run's switch.
 */
import { patched } from '@temporalio/workflow';
import { PAUSE_STATUSES_PATCH, WARNING_LEVELS_PATCH } from './sla/warnings.js';

/** A V1 run that continues-as-new continues as ticketWorkflowV2 (old histories continued as V1). */
export const CONTINUE_AS_V2_PATCH = 'continue-as-v2';

/** SLA signals a timer woke are written by a local activity (after V2: asked with `patched`). */
export const SLA_LOCAL_WRITES_PATCH = 'sla-local-writes';

/** Every patch id in the ticket workflow when ticketWorkflowV2 was introduced. */
export const V2_IMPLIED_PATCHES: ReadonlySet<string> = new Set([
  'local-activity-writes',
  'regular-activity-writes',
  'upsert-changed-attributes',
  'permanent-write-failures',
  'sla-timer-summary',
  'sla-rules',
  'sla-reopen-current-terms',
  'ticket-merge',
  WARNING_LEVELS_PATCH,
  PAUSE_STATUSES_PATCH,
  CONTINUE_AS_V2_PATCH,
]);

let implied: ReadonlySet<string> = new Set();

/** Called first thing by ticketWorkflowV2: its runs take every patch above without a marker. */
export function implyV2Patches(): void {
  implied = V2_IMPLIED_PATCHES;
}

/** Whether this run takes the behaviour of patch `id`: implied (V2), else `patched(id)`. */
export function isPatched(id: string): boolean {
  return implied.has(id) || patched(id);
}
