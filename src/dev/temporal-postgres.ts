/**
 * The production Temporal engine without Docker: Temporal server (the version pinned in
 * deploy/temporal/version.env) on PostgreSQL, with the dynamic config docker-compose mounts.
 *
 * startPostgresEngine() finds or builds the two binaries (`temporal-server`, `temporal-sql-tool`),
 * creates the default and visibility databases on the given PostgreSQL server and brings their
 * schema up to date (both idempotent; the schema is the one embedded in the sql tool), renders a
 * config on free or given ports, starts the server, waits until it answers, registers the
 * namespace and the ticket search attributes, and returns a handle that restarts or stops it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import pg from 'pg';
import { ensureSearchAttributes } from '../temporal/search-attributes.js';
import { createDatabaseIfMissing } from './embedded-postgres.js';
import { goBinDir, isExecutable, onPath } from './temporal-cli.js';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');

/** deploy/temporal: the version pin and the dynamic config shared with docker-compose. */
export const DEPLOY_TEMPORAL_DIR = path.join(repo, 'deploy/temporal');
export const DYNAMIC_CONFIG_PATH = path.join(DEPLOY_TEMPORAL_DIR, 'dynamicconfig/production-sql.yaml');

/** TEMPORAL_VERSION from deploy/temporal/version.env (the only place the version is written). */
export function pinnedTemporalVersion(file = path.join(DEPLOY_TEMPORAL_DIR, 'version.env')): string {
  const match = /^TEMPORAL_VERSION=(\d+\.\d+\.\d+)\s*$/m.exec(readFileSync(file, 'utf8'));
  if (!match) throw new Error(`${file} has no TEMPORAL_VERSION=x.y.z line`);
  return match[1]!;
}

/** The `go install` targets for a version; `go install` names the binaries `server` and `sql`. */
export function serverModules(version = pinnedTemporalVersion()) {
  return {
    server: { pkg: `go.temporal.io/server/cmd/server@v${version}`, goName: 'server', name: 'temporal-server' },
    sqlTool: { pkg: `go.temporal.io/server/cmd/tools/sql@v${version}`, goName: 'sql', name: 'temporal-sql-tool' },
  } as const;
}

/**
 * Membership ports are stored as `smallint` by the server (it exits at start with a port above
 * 32767), so every port of the engine is drawn from below that.
 */
export const MAX_ENGINE_PORT = 32_767;
const PORT_RANGE_START = 12_000;

export type EngineKind = 'dev' | 'postgres';

/** TEMPORAL_ENGINE: `dev` (default, the CLI's dev server) or `postgres` (this module). */
export function engineFromEnv(value: string | undefined): EngineKind {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === 'dev') return 'dev';
  if (v === 'postgres') return 'postgres';
  throw new Error(`TEMPORAL_ENGINE: must be "dev" or "postgres" (got "${value}")`);
}

// ---------------------------------------------------------------------------------------------
// binaries

/** Whether `file --version` reports `version` (so a foreign `server` binary is never used). */
async function reportsVersion(file: string, version: string): Promise<boolean> {
  try {
    const { stdout, stderr } = await run(file, ['--version'], { timeout: 30_000 });
    return new RegExp(`\\b${version.replace(/\./g, '\\.')}\\b`).test(stdout + stderr);
  } catch {
    return false;
  }
}

export interface EngineBinaries {
  server: string;
  sqlTool: string;
}

/**
 * The two binaries of the pinned version, without building: TEMPORAL_SERVER_PATH /
 * TEMPORAL_SQL_TOOL_PATH, then `temporal-server` / `temporal-sql-tool` on PATH, then `server` /
 * `sql` in Go's bin directory (where `go install` puts them). The server must report the version.
 */
export async function findEngineBinaries(
  explicit: Partial<EngineBinaries> = {},
  version = pinnedTemporalVersion(),
): Promise<EngineBinaries | undefined> {
  const mods = serverModules(version);
  const bin = await goBinDir();
  const pick = async (kind: 'server' | 'sqlTool', explicitPath: string | undefined) => {
    if (explicitPath) {
      if (await isExecutable(explicitPath)) return explicitPath;
      throw new Error(`${kind === 'server' ? 'TEMPORAL_SERVER_PATH' : 'TEMPORAL_SQL_TOOL_PATH'}=${explicitPath} is not an executable file`);
    }
    const candidates = [await onPath(mods[kind].name), bin ? path.join(bin, mods[kind].goName) : undefined];
    for (const c of candidates) if (c && (await isExecutable(c))) return c;
    return undefined;
  };
  const server = await pick('server', explicit.server);
  const sqlTool = await pick('sqlTool', explicit.sqlTool);
  if (!server || !sqlTool) return undefined;
  if (!explicit.server && !(await reportsVersion(server, version))) return undefined;
  return { server, sqlTool };
}

/**
 * The binaries, built with `go install` (cached in Go's bin directory; minutes the first time)
 * when they are missing or of another version. Throws with the reason when that is impossible.
 */
export async function ensureEngineBinaries(
  explicit: Partial<EngineBinaries> = {},
  log: (msg: string) => void = (m) => console.error(m),
  version = pinnedTemporalVersion(),
): Promise<EngineBinaries> {
  const found = await findEngineBinaries(explicit, version);
  if (found) return found;
  const bin = await goBinDir();
  if (!bin) {
    throw new Error(
      `Temporal server ${version} binaries not found and Go is not installed: install Go, or set TEMPORAL_SERVER_PATH and TEMPORAL_SQL_TOOL_PATH`,
    );
  }
  const mods = serverModules(version);
  log(`Building Temporal server ${version} with go install (the first build takes minutes)…`);
  await new Promise<void>((resolve, reject) => {
    const child = spawn('go', ['install', mods.server.pkg, mods.sqlTool.pkg], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`go install exited with code ${code}`))));
  });
  const built = await findEngineBinaries(explicit, version);
  if (!built) throw new Error(`go install succeeded but ${path.join(bin, mods.server.goName)} (${version}) is missing`);
  return built;
}

// ---------------------------------------------------------------------------------------------
// databases and schema

export interface EngineDatabases {
  /** the default store (history, executions, namespaces, cluster metadata) */
  main: string;
  visibility: string;
}

export const databasesFor = (name: string): EngineDatabases => ({ main: name, visibility: `${name}_visibility` });

async function hasSchemaVersion(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rowCount } = await client.query(
      `SELECT 1 FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'schema_version'`,
    );
    return Boolean(rowCount);
  } finally {
    await client.end();
  }
}

function dbUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Creates the two databases if missing and brings both schemas to the binary's latest version. */
export async function setupEngineSchema(
  sqlTool: string,
  adminUrl: string,
  databases: EngineDatabases,
  log: (msg: string) => void = () => undefined,
): Promise<void> {
  const url = new URL(adminUrl);
  const env = {
    ...process.env,
    SQL_PLUGIN: 'postgres12',
    SQL_HOST: url.hostname,
    SQL_PORT: url.port || '5432',
    SQL_USER: decodeURIComponent(url.username || 'postgres'),
    SQL_PASSWORD: decodeURIComponent(url.password),
  };
  const tool = async (database: string, args: string[]) => {
    try {
      await run(sqlTool, ['--quiet', ...args], { env: { ...env, SQL_DATABASE: database }, timeout: 300_000 });
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      throw new Error(`temporal-sql-tool ${args.join(' ')} on ${database} failed: ${e.stderr || e.stdout || e.message}`);
    }
  };
  for (const [database, schema] of [
    [databases.main, 'postgresql/v12/temporal'],
    [databases.visibility, 'postgresql/v12/visibility'],
  ] as const) {
    await createDatabaseIfMissing(adminUrl, database);
    if (!(await hasSchemaVersion(dbUrl(adminUrl, database)))) {
      log(`creating the Temporal schema in ${database}`);
      await tool(database, ['setup-schema', '-v', '0.0']);
    }
    await tool(database, ['update-schema', '--schema-name', schema]);
  }
}

/** DROP both databases (tests and benchmarks that made their own). */
export async function dropEngineDatabases(adminUrl: string, databases: EngineDatabases): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    for (const db of [databases.main, databases.visibility])
      await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(db)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------
// ports and config

/** Whether 127.0.0.1:port can be bound right now. */
function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** `count` distinct ports that were free a moment ago, all at most MAX_ENGINE_PORT. */
export async function freeEnginePorts(count: number, avoid: Set<number> = new Set()): Promise<number[]> {
  const ports: number[] = [];
  for (let tries = 0; ports.length < count; tries++) {
    if (tries > 2_000) throw new Error(`no ${count} free ports between ${PORT_RANGE_START} and ${MAX_ENGINE_PORT}`);
    const port = PORT_RANGE_START + Math.floor(Math.random() * (MAX_ENGINE_PORT - PORT_RANGE_START + 1));
    if (avoid.has(port) || ports.includes(port)) continue;
    if (await canBind(port)) ports.push(port);
  }
  return ports;
}

export interface EnginePorts {
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
}

const PORT_NAMES: (keyof EnginePorts)[] = [
  'frontend',
  'frontendHttp',
  'frontendMembership',
  'history',
  'historyMembership',
  'matching',
  'matchingMembership',
  'worker',
  'workerMembership',
];

/** Ports for the engine: the frontend's gRPC port as given (if any), the rest free ones. */
export async function allocateEnginePorts(frontend?: number): Promise<EnginePorts> {
  if (frontend !== undefined && (frontend < 1 || frontend > 65_535)) throw new Error(`frontend port ${frontend} is out of range`);
  const free = await freeEnginePorts(
    frontend === undefined ? PORT_NAMES.length : PORT_NAMES.length - 1,
    new Set(frontend ? [frontend] : []),
  );
  const all = frontend === undefined ? free : [frontend, ...free];
  return Object.fromEntries(PORT_NAMES.map((name, i) => [name, all[i]!])) as unknown as EnginePorts;
}

/** Persistence tuning; the defaults are what the measurements in the README were taken with. */
export interface EngineTuning {
  /** history shards: fixed when the databases are first used (the server refuses another count later) */
  historyShards: number;
  /** connections per service process to the default store (each service has its own pool) */
  maxConns: number;
  /** connections to the visibility store */
  visibilityMaxConns: number;
}

export const DEFAULT_ENGINE_TUNING: EngineTuning = { historyShards: 4, maxConns: 20, visibilityMaxConns: 10 };

const yamlString = (s: string) => JSON.stringify(s); // a JSON string is a valid YAML scalar

/** The server's static config (YAML) for one engine. */
export function renderEngineConfig(o: {
  adminUrl: string;
  databases: EngineDatabases;
  ports: EnginePorts;
  dynamicConfigPath: string;
  tuning: EngineTuning;
  logLevel: string;
}): string {
  const url = new URL(o.adminUrl);
  const store = (database: string, maxConns: number) => `      sql:
        pluginName: "postgres12"
        databaseName: ${yamlString(database)}
        connectAddr: ${yamlString(`${url.hostname}:${url.port || '5432'}`)}
        connectProtocol: "tcp"
        user: ${yamlString(decodeURIComponent(url.username || 'postgres'))}
        password: ${yamlString(decodeURIComponent(url.password))}
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: "1h"`;
  const service = (grpc: number, membership: number, extra = '') => `    rpc:
      grpcPort: ${grpc}
      membershipPort: ${membership}
      bindOnLocalHost: true${extra}`;
  const p = o.ports;
  return `# Rendered by src/dev/temporal-postgres.ts; do not edit (it is rewritten at every start).
log:
  stdout: true
  level: ${yamlString(o.logLevel)}

persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: ${o.tuning.historyShards}
  datastores:
    postgres-default:
${store(o.databases.main, o.tuning.maxConns)}
    postgres-visibility:
${store(o.databases.visibility, o.tuning.visibilityMaxConns)}

global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
  pprof:
    port: 0

services:
  frontend:
${service(p.frontend, p.frontendMembership, `\n      httpPort: ${p.frontendHttp}`)}
  matching:
${service(p.matching, p.matchingMembership)}
  history:
${service(p.history, p.historyMembership)}
  worker:
${service(p.worker, p.workerMembership)}

clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: ${yamlString(`127.0.0.1:${p.frontend}`)}

dcRedirectionPolicy:
  policy: "noop"

dynamicConfigClient:
  filepath: ${yamlString(o.dynamicConfigPath)}
  pollInterval: "10s"
`;
}

// ---------------------------------------------------------------------------------------------
// the running server

export interface PostgresEngineOptions {
  /** a URL on the PostgreSQL server to hold Temporal's databases, as a user that may create databases */
  adminUrl: string;
  /** the default store's database; the visibility store is `<name>_visibility` (default "temporal") */
  database?: string;
  namespace?: string;
  /** the frontend's gRPC port (clients' TEMPORAL_ADDRESS); a free one below 32768 when omitted */
  port?: number;
  /** where the rendered config and the server's log go */
  workDir: string;
  tuning?: Partial<EngineTuning>;
  dynamicConfigPath?: string;
  binaries?: Partial<EngineBinaries>;
  readyTimeoutMs?: number;
  /** the server's own log level (its output goes to <workDir>/server.log) */
  serverLogLevel?: string;
  log?: (msg: string) => void;
}

export interface RunningPostgresEngine {
  address: string;
  namespace: string;
  databases: EngineDatabases;
  ports: EnginePorts;
  /** the server's process id (changes on restart) */
  pid(): number | undefined;
  logFile: string;
  /** stop (SIGTERM, SIGKILL after 20 s) and start it again on the same ports and databases */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const ENV_NAME = 'servicemeow';

/** Everything in one call: binaries, databases and schema, config, server, namespace, search attributes. */
export async function startPostgresEngine(options: PostgresEngineOptions): Promise<RunningPostgresEngine> {
  const log = options.log ?? ((m: string) => console.error(m));
  const namespace = options.namespace ?? 'default';
  const databases = databasesFor(options.database ?? 'temporal');
  const tuning = { ...DEFAULT_ENGINE_TUNING, ...options.tuning };
  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;

  const binaries = await ensureEngineBinaries(options.binaries, log);
  await setupEngineSchema(binaries.sqlTool, options.adminUrl, databases, log);

  const workDir = path.resolve(options.workDir);
  await mkdir(path.join(workDir, 'config'), { recursive: true });
  const logFile = path.join(workDir, 'server.log');

  let ports: EnginePorts | undefined;
  let server: ServerProcess | undefined;
  let lastError: unknown;
  // A port drawn free can be taken before the server binds it: then draw again (a given port stays).
  for (let attempt = 1; attempt <= 3 && !server; attempt++) {
    ports = await allocateEnginePorts(options.port);
    const config = renderEngineConfig({
      adminUrl: options.adminUrl,
      databases,
      ports,
      dynamicConfigPath: path.resolve(options.dynamicConfigPath ?? DYNAMIC_CONFIG_PATH),
      tuning,
      logLevel: options.serverLogLevel ?? 'warn',
    });
    await writeFile(path.join(workDir, 'config', `${ENV_NAME}.yaml`), config, { mode: 0o600 });
    try {
      server = await launchServer(binaries.server, workDir, logFile, `127.0.0.1:${ports.frontend}`, readyTimeoutMs);
    } catch (err) {
      lastError = err;
      log(`Temporal server did not start (attempt ${attempt}): ${(err as Error).message.split('\n')[0]}`);
    }
  }
  if (!server || !ports) throw new Error(`Temporal server on PostgreSQL did not start: ${(lastError as Error)?.message}`);

  const address = `127.0.0.1:${ports.frontend}`;
  try {
    await ensureNamespace(address, namespace, readyTimeoutMs, undefined, server.exitReason);
  } catch (err) {
    await server.stop();
    throw err;
  }
  let current: ServerProcess = server;
  return {
    address,
    namespace,
    databases,
    ports,
    logFile,
    pid: () => current.child.pid,
    async restart() {
      await current.stop();
      current = await launchServer(binaries.server, workDir, logFile, address, readyTimeoutMs);
      await ensureNamespace(address, namespace, readyTimeoutMs, undefined, current.exitReason);
    },
    stop: () => current.stop(),
  };
}

interface ServerProcess {
  child: ChildProcess;
  stop(): Promise<void>;
  /** Why the server is gone (its exit code and log tail), or undefined while it runs. */
  exitReason(): string | undefined;
}

async function launchServer(
  binary: string,
  workDir: string,
  logFile: string,
  address: string,
  readyTimeoutMs: number,
): Promise<ServerProcess> {
  const out = createWriteStream(logFile, { flags: 'a' });
  await new Promise((r) => out.once('open', r));
  // Its own process group: a terminal's Ctrl-C must not stop it before the worker has drained.
  const child = spawn(binary, ['--root', workDir, '--config', 'config', '--env', ENV_NAME, '--allow-no-auth', 'start'], {
    cwd: workDir,
    stdio: ['ignore', out, out],
    detached: true,
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(killer);
    }
    out.end();
  };

  const exitReason = () =>
    exitCode === undefined ? undefined : `the server exited with code ${exitCode}; its log: ${logFile}\n${tail(logFile)}`;

  const deadline = Date.now() + readyTimeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const gone = exitReason();
    if (gone) {
      await stop();
      throw new Error(gone);
    }
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address, connectTimeout: 2_000 });
      await connection.workflowService.getSystemInfo({});
      // the frontend answers before history and matching have joined the ring; a namespace call
      // that needs them (or a fresh system namespace) proves the cluster works
      await connection.workflowService.describeNamespace({ namespace: 'temporal-system' });
      return { child, stop, exitReason };
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await connection?.close().catch(() => undefined);
    }
  }
  await stop();
  throw new Error(`no answer on ${address} within ${readyTimeoutMs} ms (${String(lastError)}); its log: ${logFile}\n${tail(logFile)}`);
}

function tail(file: string, bytes = 3_000): string {
  try {
    const text = readFileSync(file, 'utf8');
    return text.slice(-bytes);
  } catch {
    return '';
  }
}

/** One attempt's bound, so that a hung call cannot hold the loop. */
const NAMESPACE_ATTEMPT_MS = 5_000;

/**
 * Registers the namespace if missing, adds missing search attributes, and waits until it serves.
 * `serverGone` (the engine's own server process) ends the wait at once with its reason when the
 * server exits, instead of retrying for the whole timeout.
 */
export async function ensureNamespace(
  address: string,
  namespace: string,
  timeoutMs = 60_000,
  retentionDays = 30,
  serverGone: () => string | undefined = () => undefined,
): Promise<void> {
  // No SDK retry interceptor: this loop retries itself, and a retry the SDK had scheduled would
  // fire after the close below (an uncaught "Channel has been shut down").
  const connection = Connection.lazy({ address, interceptors: [] });
  try {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    while (Date.now() < deadline) {
      const gone = serverGone();
      if (gone) throw new Error(`namespace ${namespace} not ready on ${address}: ${gone}`);
      try {
        await connection.withDeadline(Math.min(deadline, Date.now() + NAMESPACE_ATTEMPT_MS), async () => {
          const found = await connection.workflowService.describeNamespace({ namespace }).then(
            () => true,
            (err: { code?: number }) => {
              if (err.code === 5) return false; // NOT_FOUND
              throw err;
            },
          );
          if (!found) {
            await connection.workflowService
              .registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(`${retentionDays} days`) })
              .catch((err: { code?: number }) => {
                if (err.code !== 6) throw err; // ALREADY_EXISTS: a concurrent start won
              });
          }
          await ensureSearchAttributes(connection, namespace);
          // served by the frontend's namespace cache (what workflow starts use), not only the database
          await connection.workflowService.countWorkflowExecutions({ namespace, query: '' });
        });
        return;
      } catch (err) {
        lastError = err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    throw new Error(`namespace ${namespace} not ready on ${address} within ${timeoutMs} ms: ${String(lastError)}`);
  } finally {
    await connection.close();
  }
}

// ---------------------------------------------------------------------------------------------
// configuration from the environment (npm run engine, TEMPORAL_ENGINE=postgres npm start)

/**
 * Options from the environment: TEMPORAL_ENGINE_DATABASE_URL (the PostgreSQL server and user for
 * Temporal's databases; default: the app's DATABASE_URL), TEMPORAL_ENGINE_DATABASE (default
 * "temporal"), TEMPORAL_HISTORY_SHARDS, TEMPORAL_SERVER_PATH, TEMPORAL_SQL_TOOL_PATH.
 */
export function engineOptionsFromEnv(
  env: NodeJS.ProcessEnv,
  appDatabaseUrl: string,
): Pick<PostgresEngineOptions, 'adminUrl' | 'database' | 'tuning' | 'binaries'> {
  const problems: string[] = [];
  const adminUrl = env.TEMPORAL_ENGINE_DATABASE_URL || appDatabaseUrl;
  if (!/^postgres(ql)?:\/\//.test(adminUrl)) problems.push('TEMPORAL_ENGINE_DATABASE_URL: must be a postgres:// URL');
  const database = env.TEMPORAL_ENGINE_DATABASE || 'temporal';
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(database)) problems.push('TEMPORAL_ENGINE_DATABASE: lower-case letters, digits and _ (at most 41)');
  const shards = env.TEMPORAL_HISTORY_SHARDS ? Number(env.TEMPORAL_HISTORY_SHARDS) : DEFAULT_ENGINE_TUNING.historyShards;
  if (!Number.isInteger(shards) || shards < 1 || shards > 16_384) problems.push('TEMPORAL_HISTORY_SHARDS: a whole number from 1 to 16384');
  if (problems.length) throw new Error(problems.join('\n'));
  return {
    adminUrl,
    database,
    tuning: { historyShards: shards },
    binaries: { server: env.TEMPORAL_SERVER_PATH || undefined, sqlTool: env.TEMPORAL_SQL_TOOL_PATH || undefined },
  };
}
