/** Production API process: needs DATABASE_URL and TEMPORAL_ADDRESS. */
import { requireConnections } from '../config/env.js';
import { createDb } from '../db/index.js';
import { createLogger } from '../logger.js';
import { closeRedis, connectRedis } from '../redis.js';
import { startHttpServer } from '../server.js';
import { connectTemporal } from '../temporal/client.js';
import { loadConfigOrExit, onShutdown, runMain } from './lifecycle.js';

runMain(async () => {
  const config = requireConnections(loadConfigOrExit());
  const logger = createLogger(config.logLevel, 'api');
  const db = createDb(config.databaseUrl, undefined, logger);
  const temporal = await connectTemporal(config.temporal.address, config.temporal.namespace);
  const redis = connectRedis(config.redisUrl, logger);
  const http = await startHttpServer({ config, db, temporal: temporal.client, logger, redis }, config.port, '0.0.0.0', {
    sweepUploads: true,
  });
  logger.info({ port: http.port }, 'API listening');
  // Drain first (src/server.ts: no handler runs after it), then close what handlers use.
  onShutdown(async () => {
    logger.info({ inFlight: http.inFlight }, 'API draining');
    await http.close();
    await temporal.close();
    await closeRedis(redis);
    await db.destroy();
    logger.info('API stopped');
  });
});
