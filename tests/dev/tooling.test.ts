import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/dev/embedded-postgres.js';
import { findTemporalCli } from '../../src/dev/temporal-cli.js';
import { startDevServer } from '../../src/dev/temporal-dev-server.js';
import { ensureSearchAttributes } from '../../src/temporal/search-attributes.js';
import { TICKET_SEARCH_ATTRIBUTES } from '../../workflows/definitions.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'servicemeow-tooling-'));
  await chmod(tmp, 0o755);
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('findTemporalCli', () => {
  it('prefers TEMPORAL_CLI_PATH and refuses one that is not executable', async () => {
    const fake = path.join(tmp, 'my-temporal');
    await writeFile(fake, '#!/bin/sh\n');
    await expect(findTemporalCli(fake)).rejects.toThrow(/not an executable/);
    await chmod(fake, 0o755);
    expect(await findTemporalCli(fake)).toBe(fake);
  });

  it('finds `temporal` on PATH before $(go env GOPATH)/bin', async () => {
    const dir = path.join(tmp, 'bin');
    await mkdir(dir);
    await writeFile(path.join(dir, 'temporal'), '#!/bin/sh\n', { mode: 0o755 });
    const saved = process.env.PATH;
    process.env.PATH = `${dir}${path.delimiter}${saved}`;
    try {
      expect(await findTemporalCli(undefined)).toBe(path.join(dir, 'temporal'));
    } finally {
      process.env.PATH = saved;
    }
  });
});

describe('startDevServer (file-backed)', () => {
  it('keeps workflows across a restart and re-registers a missing search attribute', async () => {
    const dbFilename = path.join(tmp, 'temporal.db');
    let server = await startDevServer({ dbFilename });
    let connection = await Connection.connect({ address: server.address });
    const listed = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
    for (const key of TICKET_SEARCH_ATTRIBUTES) expect(Object.keys(listed.customAttributes ?? {})).toContain(key.name);

    const client = new Client({ connection });
    await client.workflow.start('ticketWorkflow', { workflowId: 'survives-restart', taskQueue: 'nobody-polls', args: [] });
    await connection.operatorService.removeSearchAttributes({ namespace: 'default', searchAttributes: ['SlaBreached'] });
    await connection.close();
    await server.stop();

    // On an existing database file the CLI's --search-attribute flags are ignored: start-up must add it.
    server = await startDevServer({ dbFilename });
    connection = await Connection.connect({ address: server.address });
    try {
      expect(await ensureSearchAttributes(connection, 'default')).toEqual([]); // already re-added by startDevServer
      const after = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      expect(Object.keys(after.customAttributes ?? {})).toContain('SlaBreached');
      const description = await new Client({ connection }).workflow.getHandle('survives-restart').describe();
      expect(description.status.name).toBe('RUNNING');
    } finally {
      await connection.close();
      await server.stop();
    }
  });

  it('reports a server that exits at once, with its output', async () => {
    const fake = path.join(tmp, 'broken-temporal');
    await writeFile(fake, '#!/bin/sh\necho "cannot start: simulated" >&2\nexit 3\n', { mode: 0o755 });
    await expect(startDevServer({ cliPath: fake, readyTimeoutMs: 10_000 })).rejects.toThrow(/exited with code 3[\s\S]*simulated/);
  });
});

describe('startEmbeddedPostgres', () => {
  it('initialises once, keeps data across restarts, and stops', async () => {
    const dataDir = path.join(tmp, 'pg');
    let server = await startEmbeddedPostgres({ dataDir, database: 'servicemeow' });
    let client = new pg.Client({ connectionString: server.url });
    await client.connect();
    await client.query('CREATE TABLE kept (v text)');
    await client.query("INSERT INTO kept VALUES ('still here')");
    await client.end();
    await server.stop();

    server = await startEmbeddedPostgres({ dataDir, database: 'servicemeow' });
    client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      expect((await client.query('SELECT v FROM kept')).rows).toEqual([{ v: 'still here' }]);
    } finally {
      await client.end();
      await server.stop();
    }
    const probe = new pg.Client({ connectionString: server.url, connectionTimeoutMillis: 1000 });
    await expect(probe.connect()).rejects.toThrow();
  });
});
