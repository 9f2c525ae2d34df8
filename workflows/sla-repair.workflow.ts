/**
 * An SLA repair: applies an edited policy's new version to the open tickets running on an older
 * one, page by page (the tickets come from the read model, keyset by id), each through its own
 * `slaRetarget` Update sent by an activity. Progress (done, skipped, failed) is written after every
 * page; a worker crash resumes from history, and the batch continues-as-new carrying its cursor
 * and figures, so any number of tickets fits.
 */
import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { Actor } from './definitions.js';
import type { SlaTerms } from './sla/clock.js';
import type { TicketPriority } from './vocabulary.js';

export interface SlaRepairInput {
  repairId: string;
  /** `default:<priority>` or the SLA rule's id */
  policyKey: string;
  version: number;
  terms: Partial<Record<TicketPriority, SlaTerms>>;
  actor: Actor;
  /** carried across continue-as-new */
  progress?: SlaRepairState;
  /** lower in tests */
  pageSize?: number;
  pagesPerRun?: number;
}

interface SlaRepairState {
  afterId: string | null;
  done: number;
  skipped: number;
  failed: number;
}

// bookkeeping reads and writes: retried until the database is back
const books = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});
// one ticket's Update: a few tries, then the ticket counts as failed and the batch goes on
const sends = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 5 },
});

const PAGE_SIZE = 50;
const PAGES_PER_RUN = 40;

export async function slaRepairWorkflow(input: SlaRepairInput): Promise<SlaRepairState> {
  const { repairId, policyKey, version, terms, actor } = input;
  const pageSize = input.pageSize ?? PAGE_SIZE;
  if (!input.progress) await books.beginSlaRepair({ repairId, policyKey, version });
  let state: SlaRepairState = input.progress ?? { afterId: null, done: 0, skipped: 0, failed: 0 };
  for (let pages = 0; ; pages++) {
    if (pages >= (input.pagesPerRun ?? PAGES_PER_RUN) || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof slaRepairWorkflow>({ ...input, progress: state });
    }
    const ids = await books.slaRepairPage({ policyKey, version, afterId: state.afterId, limit: pageSize });
    const repair = { repairId, policyKey, version, terms, actor };
    const settled = await Promise.allSettled(ids.map((ticketId) => sends.retargetTicketSla({ repair, ticketId })));
    const next = { ...state, afterId: ids.at(-1) ?? state.afterId };
    for (const s of settled) {
      if (s.status === 'rejected') next.failed++;
      else if (s.value === 'applied') next.done++;
      else next.skipped++;
    }
    state = next;
    const finished = ids.length < pageSize;
    const { done, skipped, failed } = state;
    await books.recordSlaRepairProgress({ repairId, progress: { done, skipped, failed }, finished });
    if (finished) return state;
  }
}
