/** What every handler can rely on being in ctx.state, and the app's dependencies. */
import type { Client } from '@temporalio/client';
import type { Redis } from 'ioredis';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import type { Config } from '../config/env.js';
import type { Db } from '../db/index.js';
import type { Principal } from '../auth/principal.js';
import type { LoginThrottleOptions, RateLimits } from '../rate-limit/index.js';

export interface AppDeps {
  config: Config;
  db: Db;
  temporal: Client;
  logger: Logger;
  /** shared rate limits across API instances when REDIS_URL is set */
  redis?: Redis;
  /** knobs tests turn; production leaves them unset */
  tuning?: {
    confirmWaitMs?: number;
    loginThrottle?: LoginThrottleOptions;
    stream?: { heartbeatMs?: number; bufferLimitBytes?: number; maxBacklog?: number; revalidateMs?: number };
  };
}

/** What route registrars get: the app's dependencies plus the shared middleware built from them. */
export interface RouteDeps extends AppDeps {
  /** authenticate, then the per-principal rate limit */
  guard: Middleware<AppState>[];
  limits: RateLimits;
}

export interface AppState {
  requestId: string;
  log: Logger;
  principal?: Principal;
}
