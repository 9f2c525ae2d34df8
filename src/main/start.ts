/**
 * `npm start`: the whole product on one machine. Missing TEMPORAL_ADDRESS → a dev server with its
 * Web UI and state in .data/temporal.db; missing DATABASE_URL → embedded PostgreSQL in .data/pg.
 * Then migrate, seed an empty database, and run the worker and the API in this process. Ctrl-C
 * stops everything in reverse order.
 */
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { Runtime } from '@temporalio/worker';
import { seedBanner, seedDemoData } from '../commands/seed.js';
import { createDb, migrateLatest } from '../db/index.js';
import { startEmbeddedPostgres } from '../dev/embedded-postgres.js';
import { isListening } from '../dev/ports.js';
import { startDevServer } from '../dev/temporal-dev-server.js';
import { engineFromEnv, engineOptionsFromEnv, startPostgresEngine } from '../dev/temporal-postgres.js';
import { createLogger } from '../logger.js';
import { closeRedis, connectRedis } from '../redis.js';
import { startHttpServer } from '../server.js';
import { connectTemporal } from '../temporal/client.js';
import { ensureSearchAttributes } from '../temporal/search-attributes.js';
import { createTicketWorker } from '../worker.js';
import { installTemporalRuntime } from '../temporal/runtime.js';
import { DEFAULT_WORKFLOW_BUNDLE_PATH, loadWorkflowBundle } from '../temporal/workflow-bundle.js';
import { loadConfigOrExit, onShutdown, runMain } from './lifecycle.js';

const DATA_DIR = path.resolve('.data');
const EMBEDDED_PG_PORT = 54320;
const DEV_SERVER_PORT = 7233;
const DEV_UI_PORT = 8233;

runMain(async () => {
  const started = Date.now();
  const config = loadConfigOrExit();
  const logger = createLogger(config.logLevel, 'servicemeow');
  // JSON logs; shutdown order is ours (onShutdown); the SDK's metrics when WORKER_METRICS_ADDRESS is set
  installTemporalRuntime(logger, { metricsAddress: config.temporal.workerMetricsAddress });
  const stops: (() => Promise<void>)[] = [];
  let stopping = false;
  const stopAll = async () => {
    stopping = true;
    for (const stop of stops.reverse()) await stop().catch((err) => logger.error({ err }, 'stop failed'));
  };
  onShutdown(stopAll, (m) => logger.info(m));
  // The prebuilt bundle when current (npm run build), else bundled while the servers start.
  const loading = loadWorkflowBundle(config.temporal.workflowBundlePath ?? DEFAULT_WORKFLOW_BUNDLE_PATH, logger, Runtime.instance().logger);
  loading.catch(() => undefined); // awaited below; a failure surfaces there

  try {
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      logger.info('DATABASE_URL unset: starting embedded PostgreSQL in .data/pg');
      const pg = await startEmbeddedPostgres({
        dataDir: path.join(DATA_DIR, 'pg'),
        port: EMBEDDED_PG_PORT,
        database: 'servicemeow',
        log: (m) => logger.info(m),
        serverLog: (m) => logger.debug(m),
      });
      stops.push(pg.stop);
      databaseUrl = pg.url;
      logger.info({ databaseUrl: databaseUrl.replace(/:[^:@/]+@/, ':***@'), dataDir: pg.dataDir }, 'embedded PostgreSQL ready');
    }

    let address = config.temporal.address;
    if (!address) {
      if (await isListening(DEV_SERVER_PORT)) {
        throw new Error(`Port ${DEV_SERVER_PORT} is taken: stop what runs there, or set TEMPORAL_ADDRESS to use that server.`);
      }
      if (engineFromEnv(process.env.TEMPORAL_ENGINE) === 'postgres') {
        logger.info('TEMPORAL_ADDRESS unset, TEMPORAL_ENGINE=postgres: starting Temporal server on PostgreSQL');
        const engine = await startPostgresEngine({
          ...engineOptionsFromEnv(process.env, databaseUrl),
          namespace: config.temporal.namespace,
          port: DEV_SERVER_PORT,
          workDir: path.join(DATA_DIR, 'temporal-postgres'),
          log: (m) => logger.info(m),
        });
        stops.push(engine.stop);
        address = engine.address;
        logger.info({ address, databases: engine.databases, log: engine.logFile }, 'Temporal server on PostgreSQL ready');
      }
    }
    if (!address) {
      logger.info('TEMPORAL_ADDRESS unset: starting a Temporal dev server (state in .data/temporal.db)');
      const devServer = await startDevServer({
        cliPath: config.temporal.cliPath,
        namespace: config.temporal.namespace,
        port: DEV_SERVER_PORT,
        uiPort: DEV_UI_PORT,
        dbFilename: path.join(DATA_DIR, 'temporal.db'),
        log: (m) => logger.info(m),
      });
      stops.push(devServer.stop);
      address = devServer.address;
      logger.info({ address, webUi: devServer.uiUrl }, 'Temporal dev server ready');
    } else {
      const admin = await Connection.connect({ address });
      await ensureSearchAttributes(admin, config.temporal.namespace).finally(() => admin.close());
    }

    const db = createDb(databaseUrl, undefined, logger);
    stops.push(() => db.destroy());
    const applied = await migrateLatest(db);
    if (applied.length) logger.info({ applied }, 'migrations applied');
    const seeded = await seedDemoData(db, config, { ifEmpty: true });
    if (!seeded.skipped) console.log(seedBanner(seeded, config));

    const { bundle: workflowBundle } = await loading;
    const { worker, connection } = await createTicketWorker({
      address,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      db,
      webhooks: config.webhooks,
      maxCachedWorkflows: config.temporal.maxCachedWorkflows,
      workflowBundle,
    });
    const workerDone = worker.run();
    stops.push(async () => {
      worker.shutdown();
      await workerDone;
      await connection.close();
    });
    workerDone.catch((err) => {
      if (!stopping) {
        logger.fatal({ err }, 'worker failed');
        void stopAll().then(() => process.exit(1));
      }
    });

    const temporal = await connectTemporal(address, config.temporal.namespace);
    stops.push(temporal.close);
    // The app gets the connections actually in use (embedded ones are only known now).
    const effective = { ...config, databaseUrl, temporal: { ...config.temporal, address } };
    const redis = connectRedis(config.redisUrl, logger);
    stops.push(() => closeRedis(redis));
    const http = await startHttpServer({ config: effective, db, temporal: temporal.client, logger, redis }, config.port, '0.0.0.0', {
      sweepUploads: true,
    });
    stops.push(http.close);
    logger.info(
      { api: `http://127.0.0.1:${http.port}/api/v1`, docs: `http://127.0.0.1:${http.port}/docs`, startup_ms: Date.now() - started },
      'ServiceMeow is running (Ctrl-C stops everything)',
    );
  } catch (err) {
    await stopAll();
    throw err;
  }
});
