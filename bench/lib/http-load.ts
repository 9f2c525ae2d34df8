/**
 * HTTP load from a process of its own: the client's work (sending, receiving and reading each body)
 * is not charged to the server under test, as it is when `load` calls `fetch` in the server's
 * process and shares its event loop — a 25 KB list then costs the server its client's reading too.
 * `loadOverHttp` runs http-load-child.ts in a child Node process and returns its `LoadResult`.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { LoadResult } from './harness.js';

export interface HttpLoad {
  url: string;
  headers?: Record<string, string>;
  n: number;
  concurrency: number;
  /** requests sent first and not timed (connections opened, JIT warmed) */
  warmup?: number;
}

export function loadOverHttp(spec: HttpLoad): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'http-load-child.ts'), JSON.stringify(spec)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`http load child exited ${code}`));
      else resolve(JSON.parse(out) as LoadResult);
    });
  });
}
