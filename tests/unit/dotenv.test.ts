/** `.env` loading for the Node entry points: only if the file exists; the environment wins. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDotEnv } from '../../src/config/env.js';

const FROM_FILE = 'SERVICEMEOW_DOTENV_TEST_FROM_FILE';
const FROM_ENV = 'SERVICEMEOW_DOTENV_TEST_FROM_ENV';
let dir: string | undefined;
afterEach(async () => {
  delete process.env[FROM_FILE];
  delete process.env[FROM_ENV];
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function envFile(text: string): Promise<string> {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dotenv-'));
  const file = path.join(dir, '.env');
  await writeFile(file, text);
  return file;
}

describe('loadDotEnv', () => {
  it('loads a present file, and a variable already in the environment wins', async () => {
    const file = await envFile(`${FROM_FILE}=from-file\n${FROM_ENV}=from-file\n# a comment\n`);
    process.env[FROM_ENV] = 'from-environment';
    expect(loadDotEnv(file, { NODE_ENV: 'production' })).toBe(true);
    expect(process.env[FROM_FILE]).toBe('from-file');
    expect(process.env[FROM_ENV]).toBe('from-environment');
  });

  it('does nothing without the file, and nothing under NODE_ENV=test', async () => {
    expect(loadDotEnv(path.join(os.tmpdir(), 'no-such-dir-servicemeow', '.env'), {})).toBe(false);
    const file = await envFile(`${FROM_FILE}=from-file\n`);
    expect(loadDotEnv(file, { NODE_ENV: 'test' })).toBe(false);
    expect(process.env[FROM_FILE]).toBeUndefined();
  });
});
