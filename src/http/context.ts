/** What every handler can rely on being in ctx.state, and the app's dependencies. */
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Config } from '../config/env.js';
import type { Db } from '../db/index.js';
import type { Principal } from '../auth/principal.js';

export interface AppDeps {
  config: Config;
  db: Db;
  temporal: Client;
  logger: Logger;
  /** knobs tests turn; production leaves them unset */
  tuning?: { createWaitMs?: number };
}

export interface AppState {
  requestId: string;
  log: Logger;
  principal?: Principal;
}
