/**
 * A real ServiceMeow for one test file: the app on port 0 over the suite's database and dev server,
 * and (optionally) a ticket worker on a task queue of its own, so files never share work.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config/env.js';
import { createDb, type Db } from '../../src/db/index.js';
import { createLogger } from '../../src/logger.js';
import type { LoginThrottleOptions } from '../../src/rate-limit/index.js';
import { closeRedis, connectRedis } from '../../src/redis.js';
import { startHttpServer, type RunningHttpServer } from '../../src/server.js';
import { connectTemporal, type TemporalHandle } from '../../src/temporal/client.js';
import { installTemporalRuntime } from '../../src/temporal/runtime.js';
import { createTicketWorker, type ServiceWorker } from '../../src/worker.js';
import { scratchDatabase } from './scratch.js';

export interface Harness {
  config: Config;
  db: Db;
  temporal: TemporalHandle;
  http: RunningHttpServer;
  baseUrl: string;
  worker: RunningWorker | null;
  startWorker(): Promise<RunningWorker>;
  stop(): Promise<void>;
}

export interface RunningWorker {
  worker: ServiceWorker;
  stop(): Promise<void>;
}

/** Config for tests: the suite's database and server, a unique task queue, quiet logs. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: inject('databaseUrl'),
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: `tickets-${randomBytes(4).toString('hex')}`,
    JWT_SECRET: 'test-secret-that-is-long-enough',
    LOG_LEVEL: 'silent',
    // never the developer's .data/uploads
    UPLOAD_DIR: path.join(os.tmpdir(), 'servicemeow-test-uploads'),
    ...env,
  });
}

let bundle: Promise<{ code: string }> | undefined;
function workflowBundle(): Promise<{ code: string }> {
  bundle ??= readFile(inject('workflowBundlePath'), 'utf8').then((code) => ({ code }));
  return bundle;
}

export async function startHarness(
  opts: {
    worker?: boolean;
    env?: Record<string, string>;
    confirmWaitMs?: number;
    loginThrottle?: LoginThrottleOptions;
    stream?: { heartbeatMs?: number; bufferLimitBytes?: number; maxBacklog?: number; revalidateMs?: number };
    /** webhook delivery overrides (e.g. a shorter attempt budget) */
    delivery?: { attemptTimeoutMs?: number };
    reconcileEveryMs?: number;
    /**
     * run on a freshly migrated database of the file's own (named after this), dropped by stop():
     * for files that change global state (settings, webhooks) or count every row
     */
    scratch?: string;
  } = {},
): Promise<Harness> {
  const scratch = opts.scratch ? await scratchDatabase(opts.scratch) : null;
  const config = testConfig({ ...opts.env, ...(scratch ? { DATABASE_URL: scratch.url } : {}) });
  const db = createDb(config.databaseUrl!);
  const temporal = await connectTemporal(config.temporal.address!, config.temporal.namespace);
  const logger = createLogger(config.logLevel);
  installTemporalRuntime(logger);
  const redis = connectRedis(config.redisUrl, logger);
  const tuning = { confirmWaitMs: opts.confirmWaitMs, loginThrottle: opts.loginThrottle, stream: opts.stream };
  const http = await startHttpServer({ config, db, temporal: temporal.client, logger, redis, tuning }, 0, '127.0.0.1');

  const harness: Harness = {
    config,
    db,
    temporal,
    http,
    baseUrl: `http://127.0.0.1:${http.port}`,
    worker: null,
    async startWorker() {
      const { worker, connection } = await createTicketWorker({
        address: config.temporal.address!,
        namespace: config.temporal.namespace,
        taskQueue: config.temporal.taskQueue,
        db,
        webhooks: { ...config.webhooks, ...opts.delivery },
        workflowBundle: await workflowBundle(),
        ...(opts.reconcileEveryMs ? { reconcileEveryMs: opts.reconcileEveryMs } : {}),
      });
      const done = worker.run();
      const running: RunningWorker = {
        worker,
        async stop() {
          if (worker.getState() === 'RUNNING') worker.shutdown();
          await done;
          await connection.close();
          if (harness.worker === running) harness.worker = null;
        },
      };
      harness.worker = running;
      return running;
    },
    async stop() {
      await harness.worker?.stop();
      await http.close();
      await closeRedis(redis);
      await temporal.close();
      await db.destroy();
      await scratch?.drop();
    },
  };
  if (opts.worker !== false) await harness.startWorker();
  return harness;
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** A JSON call against the harness's API. */
export async function call<T = any>(
  h: { baseUrl: string },
  method: string,
  path: string,
  opts: { token?: string; apiKey?: string; body?: unknown; rawBody?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.apiKey) headers['x-api-key'] = opts.apiKey;
  let body: string | Buffer | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${h.baseUrl}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
}
