/** Process plumbing shared by the entries: config errors, and ordered shutdown on SIGINT/SIGTERM. */
import { ConfigError, loadConfig, loadDotEnv, type Config } from '../config/env.js';
import { EmbeddedPostgresError } from '../dev/postgres-access.js';

/** Load the config (after `.env`, if there is one) or exit with its problems listed, one per line. */
export function loadConfigOrExit(): Config {
  try {
    loadDotEnv();
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
}

/** Repeats closer than this are one Ctrl-C delivered twice (the terminal, and tsx relaying it). */
const DUPLICATE_SIGNAL_MS = 2_000;

/**
 * Run `stop` once on the first SIGINT/SIGTERM, then exit. Another signal, later than a relayed
 * duplicate would be, exits at once for the operator whose shutdown is stuck.
 */
export function onShutdown(stop: () => Promise<void>, log: (msg: string) => void = (m) => console.error(m)): void {
  let firstSignalAt: number | null = null;
  const handler = (signal: NodeJS.Signals) => {
    if (firstSignalAt !== null) {
      if (Date.now() - firstSignalAt < DUPLICATE_SIGNAL_MS) return;
      log(`${signal} again: exiting now.`);
      process.exit(130);
    }
    firstSignalAt = Date.now();
    log(`${signal}: shutting down…`);
    stop().then(
      () => process.exit(0),
      (err) => {
        console.error('shutdown failed', err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

/** Run an async entry, printing a clean one-line error (no stack for expected failures). */
export function runMain(main: () => Promise<void>): void {
  main().catch((err) => {
    if (err instanceof ConfigError || err instanceof EmbeddedPostgresError) console.error(err.message);
    else console.error(err);
    process.exit(1);
  });
}
