/** Production worker process: needs DATABASE_URL and TEMPORAL_ADDRESS. */
import { Connection } from '@temporalio/client';
import { Runtime } from '@temporalio/worker';
import { requireConnections } from '../config/env.js';
import { createDb } from '../db/index.js';
import { createLogger } from '../logger.js';
import { ensureSearchAttributes } from '../temporal/search-attributes.js';
import { createTicketWorker } from '../worker.js';
import { installTemporalRuntime } from '../temporal/runtime.js';
import { DEFAULT_WORKFLOW_BUNDLE_PATH, loadWorkflowBundle } from '../temporal/workflow-bundle.js';
import { loadConfigOrExit, onShutdown, runMain } from './lifecycle.js';

runMain(async () => {
  const config = requireConnections(loadConfigOrExit());
  const logger = createLogger(config.logLevel, 'worker');
  // JSON logs; shutdown order is ours (onShutdown); the SDK's metrics when WORKER_METRICS_ADDRESS is set
  installTemporalRuntime(logger, { metricsAddress: config.temporal.workerMetricsAddress });
  const { address, namespace, taskQueue } = config.temporal;
  // the prebuilt bundle when current (npm run build), else bundled now: the slow part of a start
  const loading = loadWorkflowBundle(config.temporal.workflowBundlePath ?? DEFAULT_WORKFLOW_BUNDLE_PATH, logger, Runtime.instance().logger);
  loading.catch(() => undefined); // awaited below; a failure surfaces there

  const admin = await Connection.connect({ address });
  const added = await ensureSearchAttributes(admin, namespace).finally(() => admin.close());
  if (added.length) logger.info({ added }, 'registered search attributes');

  const db = createDb(config.databaseUrl, undefined, logger);
  const { bundle: workflowBundle, prebuilt } = await loading;
  const { worker, connection, createMs } = await createTicketWorker({
    address,
    namespace,
    taskQueue,
    db,
    webhooks: config.webhooks,
    maxCachedWorkflows: config.temporal.maxCachedWorkflows,
    workflowBundle,
  });
  // Draining, then closing: the shutdown handler waits for all of it before the process exits.
  const finished = (async () => {
    await worker.run();
    await connection.close();
    await db.destroy();
    logger.info('worker stopped');
  })();
  onShutdown(async () => {
    worker.shutdown();
    await finished;
  });
  // startup_ms: from process start (module loading included) to polling; workers_create_ms: the part
  // spent creating the two Temporal workers (each loads the workflow bundle into its isolate)
  logger.info(
    { taskQueue, namespace, prebuilt_bundle: prebuilt, startup_ms: Math.round(process.uptime() * 1000), workers_create_ms: createMs },
    'worker running',
  );
  await finished;
});
