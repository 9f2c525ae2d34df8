/** One MCP request's caller and clients: the same command context REST handlers build. */
import type { Logger } from 'pino';
import type { Principal } from '../auth/principal.js';
import type { CommandContext } from '../commands/context.js';
import type { RouteDeps } from '../http/context.js';

export interface McpSession {
  principal: Principal;
  requestId: string;
  deps: RouteDeps;
  logger: Logger;
}

export function commandContextOf(s: McpSession): CommandContext {
  return {
    principal: s.principal,
    via: 'mcp',
    requestId: s.requestId,
    log: s.logger,
    db: s.deps.db,
    temporal: s.deps.temporal,
    config: s.deps.config,
    confirmWaitMs: s.deps.tuning?.confirmWaitMs,
  };
}
