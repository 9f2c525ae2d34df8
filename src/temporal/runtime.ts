/**
 * Installs the Temporal worker runtime once per process: its logs go through pino (JSON lines like
 * everything else), and it installs no signal handlers (the process entries own shutdown order).
 */
import { Runtime, type LogLevel, type LogMetadata, type Logger as TemporalLogger } from '@temporalio/worker';
import type { Logger } from 'pino';

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

class PinoTemporalLogger implements TemporalLogger {
  constructor(private readonly pino: Logger) {}
  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    this.pino[LEVELS[level]]({ temporal: meta }, message);
  }
  trace(message: string, meta?: LogMetadata) {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata) {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata) {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata) {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata) {
    this.log('ERROR', message, meta);
  }
}

let installed = false;

/**
 * Call before creating any worker; later calls are no-ops. With `metricsAddress` (host:port) the
 * SDK core serves its own Prometheus metrics there under `/metrics`: task queue polling, slots in
 * use, schedule-to-start latency, activity and workflow task outcomes — the worker's side of things.
 */
export function installTemporalRuntime(logger: Logger, opts: { metricsAddress?: string } = {}): void {
  if (installed) return;
  installed = true;
  Runtime.install({
    // The SDK's INFO chatter (worker state changes, bundle sizes) is debug detail for us.
    logger: new PinoTemporalLogger(logger.child({ component: 'temporal-sdk' }, { level: logger.level === 'info' ? 'warn' : logger.level })),
    shutdownSignals: [],
    ...(opts.metricsAddress
      ? {
          telemetryOptions: {
            metrics: {
              // Prometheus conventions: counters end in _total, durations are in seconds and say so
              prometheus: { bindAddress: opts.metricsAddress, countersTotalSuffix: true, useSecondsForDurations: true, unitSuffix: true },
            },
          },
        }
      : {}),
  });
}
