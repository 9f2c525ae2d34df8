/** JSON-lines logging with pino; every request's lines carry its request_id (see request-id middleware). */
import { pino, type Logger } from 'pino';

export function createLogger(level: string, name = 'servicemeow'): Logger {
  return pino({ name, level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}
