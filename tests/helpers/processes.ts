/** Product entry points as real processes, for tests that SIGKILL them. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const repo = path.resolve(import.meta.dirname, '../..');

/** One process (node --import tsx), so SIGKILL really kills it (the tsx wrapper would leave its child running). */
export function launch(script: string, env: Record<string, string>): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: repo,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (c: Buffer) => {
      out += c.toString();
      if (/worker running|API listening/.test(out)) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  return { child, ready };
}

export async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

/** The environment of a worker process serving a harness's database and task queue. */
export function workerEnv(
  h: { config: { databaseUrl?: string; temporal: { address?: string; taskQueue: string } } },
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    DATABASE_URL: h.config.databaseUrl!,
    TEMPORAL_ADDRESS: h.config.temporal.address!,
    TEMPORAL_TASK_QUEUE: h.config.temporal.taskQueue,
    JWT_SECRET: 'test-secret-that-is-long-enough',
    LOG_LEVEL: 'info', // readiness is read from the 'worker running' line
    NODE_ENV: 'test',
    ...extra,
  };
}
