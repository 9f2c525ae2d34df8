/**
 * Upload throughput and memory: BENCH_UPLOADS (20) files of BENCH_UPLOAD_MB (25) MB uploaded
 * concurrently, one request each, to an API process of its own (a worker in another), while its
 * RSS is sampled every 50 ms. Memory must stay flat: files are streamed to disk, never buffered.
 * Baseline in the same run: the API's RSS at rest, and the same bytes written straight to disk by
 * this process (the disk's own speed).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { signAccessToken } from '../src/auth/tokens.js';
import { ensureSlaPolicies } from '../src/commands/seed.js';
import { loadConfig } from '../src/config/env.js';
import { createDb, migrateLatest } from '../src/db/index.js';
import { freePort } from '../src/dev/ports.js';
import { Attachment, User } from '../src/models/index.js';
import { startBenchTemporal } from './lib/engine.js';
import { report, round, scratchDatabase } from './lib/harness.js';

const FILES = Number(process.env.BENCH_UPLOADS ?? 20);
const MB = Number(process.env.BENCH_UPLOAD_MB ?? 25);
const SIZE = MB * 1024 * 1024;
const repo = path.resolve(import.meta.dirname, '..');
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

const scratch = await scratchDatabase();
const temporal = await startBenchTemporal(scratch);
const port = await freePort();
const uploads = path.join(scratch.tmp, 'uploads');
const env = {
  DATABASE_URL: scratch.url,
  TEMPORAL_ADDRESS: temporal.address,
  PORT: String(port),
  LOG_LEVEL: 'info',
  RATE_LIMIT_PER_MINUTE: '100000000',
  JWT_SECRET: 'bench-secret-long-enough-123',
  UPLOAD_DIR: uploads,
  MAX_UPLOAD_SIZE_MB: String(MB),
};
const config = loadConfig(env);
const db = createDb(scratch.url);
await migrateLatest(db);
await ensureSlaPolicies(db, config);
const user = await User.query(db)
  .insert({
    username: 'bench',
    email: 'b@example.test',
    fullName: 'Bench',
    role: 'admin',
    isActive: true,
    passwordHash: 'x',
  } as Partial<User>)
  .returning('*');
const token = signAccessToken(config, user).token;

const launch = (script: string, marker: string) => {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: repo,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = new Promise<void>((resolve) => child.stdout!.on('data', (c: Buffer) => c.toString().includes(marker) && resolve()));
  return { child, ready };
};
const worker = launch('src/main/worker.ts', 'worker running');
const api = launch('src/main/api.ts', 'API listening');
await Promise.all([worker.ready, api.ready]);

const ticket = await fetch(`http://127.0.0.1:${port}/api/v1/tickets`, {
  method: 'POST',
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  body: JSON.stringify({ title: 'Big files', priority: 'low' }),
}).then((r) => r.json() as Promise<{ id: string }>);

// The file: a log-like text block repeated (64 KiB chunks), generated as it is sent.
const CHUNK = Buffer.from('2026-11-22T03:00:00Z INFO request served in 12 ms path=/api/v1/tickets\n'.repeat(1024).slice(0, 64 * 1024));
const body = function* () {
  for (let sent = 0; sent < SIZE; sent += CHUNK.length) yield CHUNK.subarray(0, Math.min(CHUNK.length, SIZE - sent));
};
const expectedSha = (() => {
  const h = createHash('sha256');
  for (const c of body()) h.update(c);
  return h.digest('hex');
})();

function upload(i: number): Promise<number> {
  const boundary = `bench${i}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="server-${i}.log"\r\nContent-Type: text/plain\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return new Promise((resolve, reject) => {
    const req = http.request(`http://127.0.0.1:${port}/api/v1/tickets/${ticket.id}/attachments`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(head.length + SIZE + tail.length),
      },
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        if (res.statusCode !== 201) console.error(`upload ${i}: ${res.statusCode} ${text.slice(0, 300)}`);
        resolve(res.statusCode!);
      });
    });
    req.on('error', reject);
    pipeline(Readable.from([head, ...body(), tail]), req).catch(reject);
  });
}

// Baseline: this process writing the same bytes to the same disk.
const diskStart = performance.now();
await pipeline(Readable.from(body()), createWriteStream(path.join(scratch.tmp, 'baseline.bin')));
const diskMbPerSecond = MB / ((performance.now() - diskStart) / 1000);

const restRss = rssMb(api.child.pid!);
let peakRss = restRss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, rssMb(api.child.pid!));
}, 50);
const started = performance.now();
const statuses = await Promise.all(Array.from({ length: FILES }, (_, i) => upload(i)));
const seconds = (performance.now() - started) / 1000;
clearInterval(sampler);

const rows = await Attachment.query(db).where({ ticketId: ticket.id });
report('upload_throughput', {
  files: FILES,
  file_mb: MB,
  statuses: [...new Set(statuses)],
  stored: rows.length,
  hashes_match: rows.every((r) => r.sha256 === expectedSha),
  seconds: round(seconds, 1),
  mb_per_second: round((FILES * MB) / seconds, 1),
  baseline_disk_write_mb_per_second: round(diskMbPerSecond, 1),
});
report('upload_api_memory', {
  rss_at_rest_mb: round(restRss, 1),
  peak_rss_mb: round(peakRss, 1),
  growth_mb: round(peakRss - restRss, 1),
  uploaded_mb: FILES * MB,
});

api.child.kill('SIGTERM');
worker.child.kill('SIGTERM');
await new Promise((r) => setTimeout(r, 2_000));
await db.destroy();
await temporal.stop();
await scratch.drop();
