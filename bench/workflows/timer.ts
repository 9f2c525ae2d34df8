/** Bench-only workflow: a bare timer. Sleeps until `dueAtMs` and returns the workflow clock when it fired. */
import { sleep } from '@temporalio/workflow';

export async function benchTimerWorkflow(dueAtMs: number): Promise<number> {
  await sleep(Math.max(1, dueAtMs - Date.now()));
  return Date.now(); // the start of the workflow task that saw the timer fire
}
