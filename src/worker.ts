/**
 * Builds the worker process's Temporal workers over one connection: the ticket worker (ticket
 * workflows and their writes) and the webhook worker (delivery workflows and attempts) on a task
 * queue of its own, with room for many slow endpoints at once. Both run the same workflow bundle.
 */
import { Client } from '@temporalio/client';
import { NativeConnection, Runtime, Worker, type State, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import type { Db } from './db/index.js';
import type { DeliverySettings } from './webhooks/deliveries.js';
import { startDeliveries, webhookTaskQueue } from './webhooks/dispatch.js';
import { pruneDeliveries, strandedDeliveries } from './webhooks/deliveries.js';
import { DEFAULT_WORKFLOW_BUNDLE_PATH, loadWorkflowBundle } from './temporal/workflow-bundle.js';

export { WORKFLOWS_PATH } from './temporal/workflow-bundle.js';

export interface TicketWorkerOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  db: Db;
  /** config.webhooks (WEBHOOK_* settings) */
  webhooks: DeliverySettings;
  /** the workflow bundle (entries load it with loadWorkflowBundle; tests share one); when omitted, dist/workflow-bundle.js if current, else bundled now */
  workflowBundle?: { code: string };
  /** how often, and after how long, never-attempted deliveries are started again (default 60 s) */
  reconcileEveryMs?: number;
  /** workflows each of the two workers keeps cached (TEMPORAL_MAX_CACHED_WORKFLOWS; DEFAULT_MAX_CACHED_WORKFLOWS if unset) */
  maxCachedWorkflows?: number;
}

/**
 * The ticket worker's cache when TEMPORAL_MAX_CACHED_WORKFLOWS is unset. A cached ticket workflow
 * costs about 320 KB of worker memory, and the SDK's own default grows with the heap limit (about
 * 2,300 with Node's 4 GB: 1.5 GB with 10,000 open tickets). 500 keeps the worker well under 1 GiB
 * however many tickets are open, and holds the tickets that are busy at once; a ticket outside
 * the cache replays its history when next touched (bench/worker-memory.bench.ts times that).
 */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 500;

/** The two workers run and stop together; `getState` is the ticket worker's. */
export class ServiceWorker {
  private reconciler: NodeJS.Timeout | undefined;

  constructor(
    readonly tickets: Worker,
    readonly webhooks: Worker,
    private readonly reconcile: () => Promise<void>,
    private readonly reconcileEveryMs: number,
  ) {}

  async run(): Promise<void> {
    const schedule = () => {
      this.reconciler = setTimeout(() => void this.reconcile().finally(() => this.running() && schedule()), this.reconcileEveryMs);
    };
    schedule();
    const runs = [this.tickets.run(), this.webhooks.run()];
    try {
      await Promise.all(runs);
    } catch (err) {
      // one worker failed: stop the other too, so the process exits instead of running half a worker
      this.shutdown();
      await Promise.allSettled(runs);
      throw err;
    } finally {
      clearTimeout(this.reconciler);
    }
  }

  shutdown(): void {
    clearTimeout(this.reconciler);
    for (const w of [this.tickets, this.webhooks]) if (w.getState() === 'RUNNING') w.shutdown();
  }

  getState(): State {
    return this.tickets.getState();
  }

  private running(): boolean {
    return this.tickets.getState() === 'RUNNING';
  }
}

export async function createTicketWorker(opts: TicketWorkerOptions): Promise<{
  worker: ServiceWorker;
  connection: NativeConnection;
  /** how long creating the two Temporal workers took */ createMs: number;
}> {
  const connection = await NativeConnection.connect({ address: opts.address });
  const temporal = new Client({ connection, namespace: opts.namespace });
  const deliveryQueue = webhookTaskQueue(opts.taskQueue);
  const activities = createActivities({
    db: opts.db,
    temporal,
    webhooks: { settings: opts.webhooks, taskQueue: deliveryQueue },
  });
  const sdkLog = Runtime.instance().logger;
  const workflowBundle =
    opts.workflowBundle ??
    (
      await loadWorkflowBundle(
        DEFAULT_WORKFLOW_BUNDLE_PATH,
        { info: (o, m) => sdkLog.info(m, o), warn: (o, m) => sdkLog.warn(m, o) },
        sdkLog,
      )
    ).bundle;
  const common = {
    connection,
    namespace: opts.namespace,
    workflowBundle,
    activities,
    // Drain in-flight tasks on shutdown, but not forever (a write retrying against a dead database
    // would hold it): what is cut off is retried by the next worker, idempotently.
    shutdownGraceTime: '10 seconds',
    maxCachedWorkflows: opts.maxCachedWorkflows ?? DEFAULT_MAX_CACHED_WORKFLOWS,
  } satisfies Partial<WorkerOptions>;
  // Both at once: each loads the workflow bundle into its own isolate (one after the other they took
  // about 1.4 s here, together 1.0–1.1 s: a one-off comparison; `workers_create_ms` in the 'worker
  // running' log line, which bench/worker-start.bench.ts reports, is today's figure) — start-up is how
  // long overdue SLA signals wait after a crash.
  const creating = performance.now();
  const [tickets, webhooks] = await Promise.all([
    Worker.create({ ...common, taskQueue: opts.taskQueue }),
    // An attempt mostly waits on the network (up to 15 s): many may run at once without using CPU.
    // Each endpoint holds at most its own budget of these slots (src/webhooks/budget.ts).
    Worker.create({ ...common, taskQueue: deliveryQueue, maxConcurrentActivityTaskExecutions: 200 }),
  ]);

  const everyMs = opts.reconcileEveryMs ?? 60_000;
  // Housekeeping on a timer: start what a crash left unstarted, and drop old delivery logs.
  const reconcile = async () => {
    try {
      await startDeliveries(temporal, deliveryQueue, await strandedDeliveries(opts.db, everyMs));
      await pruneDeliveries(opts.db);
    } catch (err) {
      // the next pass tries again; a stranded delivery is late, never lost
      sdkLog.warn('webhook housekeeping failed; the next pass retries', { error: err instanceof Error ? err.message : String(err) });
    }
  };
  const createMs = Math.round(performance.now() - creating);
  return { worker: new ServiceWorker(tickets, webhooks, reconcile, everyMs), connection, createMs };
}
