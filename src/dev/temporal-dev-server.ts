/**
 * Runs a Temporal dev server as a child process: file-backed for `npm start`, in memory for tests.
 * Readiness is a real gRPC round trip (describeNamespace) with a generous deadline, because the
 * SDK's own 5 s wait is too short on a 2-core machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { ensureSearchAttributes, searchAttributeFlags } from '../temporal/search-attributes.js';
import { ensureTemporalCli } from './temporal-cli.js';
import { freePort } from './ports.js';

export interface DevServerOptions {
  cliPath?: string;
  namespace?: string;
  /** gRPC port; a free one when omitted */
  port?: number;
  /** Web UI port; no UI when omitted */
  uiPort?: number;
  /** SQLite file; in memory when omitted */
  dbFilename?: string;
  /** how long to wait for the server to answer */
  readyTimeoutMs?: number;
  log?: (msg: string) => void;
}

export interface RunningDevServer {
  /** the server's process id (undefined for the SDK-downloaded fallback) */
  pid: number | undefined;
  address: string;
  namespace: string;
  uiUrl: string | undefined;
  stop(): Promise<void>;
}

/** Start a dev server, wait until it answers, register the search attributes, and return it. */
export async function startDevServer(options: DevServerOptions = {}): Promise<RunningDevServer> {
  const log = options.log ?? ((m: string) => console.error(m));
  const namespace = options.namespace ?? 'default';
  const cli = await ensureTemporalCli(options.cliPath, log);
  if (!cli) return startWithSdkDownload(options, namespace, log);

  const port = options.port ?? (await freePort());
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--namespace', namespace];
  args.push('--log-level', 'error', ...searchAttributeFlags());
  if (options.uiPort) args.push('--ui-port', String(options.uiPort), '--ui-ip', '127.0.0.1');
  else args.push('--headless');
  if (options.dbFilename) {
    await mkdir(path.dirname(options.dbFilename), { recursive: true });
    args.push('--db-filename', options.dbFilename, '--sqlite-pragma', 'journal_mode=wal');
  } else {
    args.push('--sqlite-pragma', 'synchronous=off');
  }

  // Its own process group: a terminal's Ctrl-C must not stop it before the worker has drained; we
  // stop it last, and kill it if this process exits any other way.
  const child = spawn(cli, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stderrTail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const address = `127.0.0.1:${port}`;
  try {
    await waitUntilServing(address, namespace, options.readyTimeoutMs ?? 90_000, exited);
  } catch (err) {
    process.removeListener('exit', killOnExit);
    await stopChild(child, exited);
    throw new Error(`Temporal dev server did not start: ${(err as Error).message}\n${stderrTail}`);
  }
  return {
    pid: child.pid,
    address,
    namespace,
    uiUrl: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : undefined,
    stop: async () => {
      process.removeListener('exit', killOnExit);
      await stopChild(child, exited);
    },
  };
}

async function waitUntilServing(address: string, namespace: string, timeoutMs: number, exited: Promise<number | null>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`the server exited with code ${exitCode}`);
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address, connectTimeout: 2_000 });
      await connection.workflowService.describeNamespace({ namespace });
      await ensureSearchAttributes(connection, namespace);
      return;
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 250));
    } finally {
      await connection?.close().catch(() => undefined);
    }
  }
  throw new Error(`no answer within ${timeoutMs} ms (${String(lastError)})`);
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(killer);
}

/** Last resort for machines with neither the CLI nor Go: the SDK downloads a dev server. */
async function startWithSdkDownload(options: DevServerOptions, namespace: string, log: (msg: string) => void): Promise<RunningDevServer> {
  log('Neither the temporal CLI nor Go is available; asking @temporalio/testing to download a dev server…');
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const { TICKET_SEARCH_ATTRIBUTES } = await import('../../workflows/definitions.js');
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      ip: '127.0.0.1',
      port: options.port,
      namespace,
      ui: Boolean(options.uiPort),
      uiPort: options.uiPort,
      dbFilename: options.dbFilename,
      searchAttributes: [...TICKET_SEARCH_ATTRIBUTES],
    },
  });
  const address = env.address;
  const connection = await Connection.connect({ address });
  await ensureSearchAttributes(connection, namespace).finally(() => connection.close());
  return {
    pid: undefined,
    address,
    namespace,
    uiUrl: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : undefined,
    stop: () => env.teardown(),
  };
}
