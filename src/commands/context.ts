/** What every command receives explicitly: who acts, through which transport, and the clients. */
import type { Client } from '@temporalio/client';
import type { Principal } from '../auth/principal.js';
import type { Config } from '../config/env.js';
import type { Db } from '../db/index.js';
import type { TicketChannel } from '../../workflows/vocabulary.js';

export interface CommandContext {
  principal: Principal;
  via: TicketChannel;
  requestId: string;
  db: Db;
  temporal: Client;
  config: Config;
  /** how long a create waits for the workflow to write the row before answering `accepted` */
  createWaitMs?: number;
}
