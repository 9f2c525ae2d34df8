/**
 * The stack most benchmarks run on: a scratch database (migrated, SLA policies seeded, one admin
 * with an access token), a Temporal dev server of its own with a client, quiet logs, and one
 * `stop()` that takes it all down in order. BENCH_ENGINE chooses the Temporal (bench/lib/engine.ts).
 */
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { signAccessToken } from '../../src/auth/tokens.js';
import { ensureSlaPolicies } from '../../src/commands/seed.js';
import { loadConfig, type Config } from '../../src/config/env.js';
import { createDb, migrateLatest, type Db } from '../../src/db/index.js';
import { createLogger } from '../../src/logger.js';
import { User } from '../../src/models/index.js';
import { connectTemporal } from '../../src/temporal/client.js';
import { installTemporalRuntime } from '../../src/temporal/runtime.js';
import { startBenchTemporal } from './engine.js';
import { scratchDatabase } from './harness.js';

export interface BenchStack {
  /** what the product's processes would read from the environment (for spawned workers) */
  env: Record<string, string>;
  config: Config;
  logger: Logger;
  db: Db;
  temporalAddress: string;
  /** the Temporal server's process id (CPU and RSS sampling) */
  temporalPid: number | undefined;
  temporal: Client;
  user: User;
  token: string;
  stop(): Promise<void>;
}

export async function benchStack(extraEnv: Record<string, string> = {}): Promise<BenchStack> {
  const scratch = await scratchDatabase();
  const temporalServer = await startBenchTemporal(scratch);
  const env = {
    DATABASE_URL: scratch.url,
    TEMPORAL_ADDRESS: temporalServer.address,
    RATE_LIMIT_PER_MINUTE: '100000000',
    JWT_SECRET: 'bench-secret-long-enough-123',
    ...extraEnv,
  };
  const config = loadConfig({ ...env, LOG_LEVEL: 'silent' });
  const logger = createLogger('silent');
  installTemporalRuntime(logger);
  const db = createDb(scratch.url, { min: 2, max: 20 });
  await migrateLatest(db);
  await ensureSlaPolicies(db, config);
  const user = await User.query(db)
    .insert({
      username: 'bench',
      email: 'bench@example.test',
      fullName: 'Bench',
      role: 'admin',
      isActive: true,
      passwordHash: 'x',
    } as Partial<User>)
    .returning('*');
  const temporal = await connectTemporal(temporalServer.address, 'default');
  return {
    env,
    config,
    logger,
    db,
    temporalAddress: temporalServer.address,
    temporalPid: temporalServer.pid,
    temporal: temporal.client,
    user,
    token: signAccessToken(config, user).token,
    async stop() {
      await temporal.close();
      await db.destroy();
      await temporalServer.stop();
      await scratch.drop();
    },
  };
}
