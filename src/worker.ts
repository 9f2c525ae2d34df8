/** Builds the ticket worker: the bundled workflows of workflows/ plus activities from createActivities. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import type { Db } from './db/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
/** The workflow entry the worker bundles (source under tsx, compiled output in a build). */
export const WORKFLOWS_PATH = path.resolve(here, `../workflows/index${ext}`);

export interface TicketWorkerOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  db: Db;
  /** a prebuilt bundle (tests bundle once and share it); bundled from source when omitted */
  workflowBundle?: { code: string };
}

export async function createTicketWorker(opts: TicketWorkerOptions): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connection = await NativeConnection.connect({ address: opts.address });
  const worker = await Worker.create({
    connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities({ db: opts.db }),
    // Drain in-flight tasks on shutdown, but not forever (a write retrying against a dead database
    // would hold it): what is cut off is retried by the next worker, idempotently.
    shutdownGraceTime: '10 seconds',
  });
  return { worker, connection };
}
