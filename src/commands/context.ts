/** What every command receives explicitly: who acts, through which transport, and the clients. */
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Principal } from '../auth/principal.js';
import type { Config } from '../config/env.js';
import type { Db } from '../db/index.js';
import type { TicketChannel } from '../../workflows/vocabulary.js';

export interface CommandContext {
  principal: Principal;
  via: TicketChannel;
  requestId: string;
  /** the request's logger (its lines carry the request id) */
  log: Logger;
  db: Db;
  temporal: Client;
  config: Config;
  /** how long a create or a change waits for the workflow to confirm it (default CONFIRM_WAIT_MS) */
  confirmWaitMs?: number;
}

/** How long a create waits for its row, and a change for its Update to be accepted, before the API answers without it. */
export const CONFIRM_WAIT_MS = 10_000;
