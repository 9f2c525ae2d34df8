/**
 * The production engine's pure parts: one version pin and one dynamic config shared with
 * docker-compose, ports the server accepts (membership ports are smallint), the rendered config,
 * and the environment switches.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ENGINE_TUNING,
  DYNAMIC_CONFIG_PATH,
  MAX_ENGINE_PORT,
  allocateEnginePorts,
  engineFromEnv,
  engineOptionsFromEnv,
  ensureNamespace,
  freeEnginePorts,
  pinnedTemporalVersion,
  renderEngineConfig,
  serverModules,
} from '../../src/dev/temporal-postgres.js';

const repo = path.resolve(import.meta.dirname, '../..');
const compose = readFileSync(path.join(repo, 'docker-compose.yml'), 'utf8');

describe('one version pin and one dynamic config', () => {
  it('compose image defaults, .ci/run and the go install targets all use deploy/temporal/version.env', () => {
    const version = pinnedTemporalVersion();
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    const composeDefaults = [...compose.matchAll(/\$\{TEMPORAL_VERSION:-([^}]+)\}/g)].map((m) => m[1]);
    expect(composeDefaults.length).toBeGreaterThanOrEqual(3); // server, schema and namespace tools
    expect(new Set(composeDefaults)).toEqual(new Set([version]));
    expect(serverModules(version).server.pkg).toBe(`go.temporal.io/server/cmd/server@v${version}`);
    expect(readFileSync(path.join(repo, '.ci/run'), 'utf8')).toContain('deploy/temporal/version.env');
  });

  it('compose mounts the dynamic config file the local engine runs with, and the same persistence defaults', () => {
    expect(compose).toContain('./deploy/temporal/dynamicconfig:/etc/temporal/config/dynamicconfig');
    expect(compose).toContain(`DYNAMIC_CONFIG_FILE_PATH: config/dynamicconfig/${path.basename(DYNAMIC_CONFIG_PATH)}`);
    expect(DYNAMIC_CONFIG_PATH).toBe(path.join(repo, 'deploy/temporal/dynamicconfig/production-sql.yaml'));
    expect(compose).toContain(`NUM_HISTORY_SHARDS: \${TEMPORAL_HISTORY_SHARDS:-${DEFAULT_ENGINE_TUNING.historyShards}}`);
    expect(compose).toContain(`SQL_MAX_CONNS: ${DEFAULT_ENGINE_TUNING.maxConns}`);
    expect(compose).toContain(`SQL_VIS_MAX_CONNS: ${DEFAULT_ENGINE_TUNING.visibilityMaxConns}`);
  });
});

describe('ports', () => {
  it('are distinct, bindable a moment ago, and at most 32767', async () => {
    const ports = await freeEnginePorts(40);
    expect(new Set(ports).size).toBe(40);
    for (const p of ports) expect(p).toBeLessThanOrEqual(MAX_ENGINE_PORT);
  });

  it('keep a given frontend port and draw the others below 32768', async () => {
    const ports = await allocateEnginePorts(7233);
    expect(ports.frontend).toBe(7233);
    const all = Object.values(ports);
    expect(new Set(all).size).toBe(all.length);
    for (const p of all) expect(p).toBeLessThanOrEqual(MAX_ENGINE_PORT);
    await expect(allocateEnginePorts(70_000)).rejects.toThrow(/out of range/);
  });
});

describe('rendered config', () => {
  it('carries the databases, credentials, ports, shards, pools and the absolute dynamic-config path', async () => {
    const ports = await allocateEnginePorts();
    const yaml = renderEngineConfig({
      adminUrl: 'postgres://tem%40p:s3cr%22et@db.local:6543/postgres',
      databases: { main: 'temporal_x', visibility: 'temporal_x_visibility' },
      ports,
      dynamicConfigPath: DYNAMIC_CONFIG_PATH,
      tuning: { historyShards: 8, maxConns: 30, visibilityMaxConns: 5 },
      logLevel: 'warn',
    });
    expect(yaml).toContain('numHistoryShards: 8');
    expect(yaml).toContain('databaseName: "temporal_x"');
    expect(yaml).toContain('databaseName: "temporal_x_visibility"');
    expect(yaml).toContain('connectAddr: "db.local:6543"');
    expect(yaml).toContain('user: "tem@p"');
    expect(yaml).toContain('password: "s3cr\\"et"'); // quoted, so any password is one YAML scalar
    expect(yaml).toContain('maxConns: 30');
    expect(yaml).toContain('maxConns: 5');
    expect(yaml).toContain(`membershipPort: ${ports.historyMembership}`);
    expect(yaml).toContain(`rpcAddress: "127.0.0.1:${ports.frontend}"`);
    expect(yaml).toContain(`filepath: ${JSON.stringify(DYNAMIC_CONFIG_PATH)}`);
    expect(yaml).toContain('port: 0'); // no pprof listener
  });
});

describe('environment', () => {
  it('TEMPORAL_ENGINE is dev by default, postgres on request, and refuses anything else', () => {
    expect(engineFromEnv(undefined)).toBe('dev');
    expect(engineFromEnv('')).toBe('dev');
    expect(engineFromEnv('postgres')).toBe('postgres');
    expect(() => engineFromEnv('cassandra')).toThrow(/TEMPORAL_ENGINE: must be "dev" or "postgres"/);
  });

  it('engine options default to the app database server and name every bad variable', () => {
    const o = engineOptionsFromEnv({}, 'postgres://postgres@127.0.0.1:5432/servicemeow');
    expect(o).toMatchObject({
      adminUrl: 'postgres://postgres@127.0.0.1:5432/servicemeow',
      database: 'temporal',
      tuning: { historyShards: 4 },
    });
    expect(
      engineOptionsFromEnv({ TEMPORAL_ENGINE_DATABASE_URL: 'postgres://t@other/x', TEMPORAL_HISTORY_SHARDS: '16' }, 'postgres://a@b/c'),
    ).toMatchObject({
      adminUrl: 'postgres://t@other/x',
      tuning: { historyShards: 16 },
    });
    expect(() => engineOptionsFromEnv({ TEMPORAL_ENGINE_DATABASE: 'Bad-Name', TEMPORAL_HISTORY_SHARDS: '0' }, 'mysql://x')).toThrow(
      /TEMPORAL_ENGINE_DATABASE_URL[\s\S]*TEMPORAL_ENGINE_DATABASE:[\s\S]*TEMPORAL_HISTORY_SHARDS/,
    );
  });
});

describe('waiting for the namespace', () => {
  it('ends at once with the reason when the server process is gone, instead of retrying until the timeout', async () => {
    const started = Date.now();
    let checks = 0;
    const gone = () => (++checks >= 2 ? 'the server exited with code 1' : undefined);
    // port 1: nothing listens, as after the server died; the timeout is far longer than the test's
    await expect(ensureNamespace('127.0.0.1:1', 'default', 120_000, 30, gone)).rejects.toThrow(/exited with code 1/);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(checks).toBe(2);
  });

  it('without a server process to watch, gives up at its timeout naming the last error', async () => {
    await expect(ensureNamespace('127.0.0.1:1', 'default', 1_500)).rejects.toThrow(/not ready on 127\.0\.0\.1:1 within 1500 ms/);
  });
});
