/**
 * `npm run engine`: the production Temporal engine (server on PostgreSQL) in the foreground, for
 * operators without Docker and for `TEMPORAL_ADDRESS` of separately started API/worker processes.
 * Temporal's databases go on TEMPORAL_ENGINE_DATABASE_URL's server, else DATABASE_URL's, else the
 * embedded PostgreSQL that `npm start` uses (.data/pg). TEMPORAL_ENGINE_PORT (default 7233) is
 * the frontend's gRPC port. Ctrl-C stops it.
 */
import path from 'node:path';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { engineOptionsFromEnv, pinnedTemporalVersion, startPostgresEngine } from './temporal-postgres.js';

const DATA_DIR = path.resolve('.data');
const stops: (() => Promise<void>)[] = [];
let stopping = false;
const stopAll = async () => {
  if (stopping) return;
  stopping = true;
  for (const stop of stops.reverse()) await stop().catch((err) => console.error('stop failed:', err));
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    console.error(`${signal}: stopping the Temporal server…`);
    void stopAll().then(() => process.exit(0));
  });
}

try {
  let appUrl = process.env.TEMPORAL_ENGINE_DATABASE_URL || process.env.DATABASE_URL;
  if (!appUrl) {
    console.error('DATABASE_URL unset: using the embedded PostgreSQL in .data/pg');
    const pg = await startEmbeddedPostgres({ dataDir: path.join(DATA_DIR, 'pg'), port: 54320, database: 'servicemeow' });
    stops.push(pg.stop);
    appUrl = pg.url;
  }
  const port = Number(process.env.TEMPORAL_ENGINE_PORT || 7233);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error('TEMPORAL_ENGINE_PORT: a port number');
  const engine = await startPostgresEngine({
    ...engineOptionsFromEnv(process.env, appUrl),
    namespace: process.env.TEMPORAL_NAMESPACE || 'default',
    port,
    workDir: path.join(DATA_DIR, 'temporal-postgres'),
  });
  stops.push(engine.stop);
  console.log(
    JSON.stringify({
      msg: 'Temporal server on PostgreSQL ready (Ctrl-C stops it)',
      version: pinnedTemporalVersion(),
      address: engine.address,
      namespace: engine.namespace,
      databases: engine.databases,
      log: engine.logFile,
    }),
  );
} catch (err) {
  console.error((err as Error).message);
  await stopAll();
  process.exit(1);
}
