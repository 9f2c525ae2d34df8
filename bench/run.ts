/**
 * `npm run bench`: runs every bench/*.bench.ts in turn; each prints one JSON line per figure,
 * labelled with the engine it ran on. BENCH_ENGINE picks the Temporal: `dev` (default), `postgres`
 * (Temporal server on PostgreSQL), or a list (`dev,postgres`) to run everything once per engine;
 * bench/engine.bench.ts (first) gives each engine's own baselines. BENCH_ONLY=engine,tickets runs
 * only the named files.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

const dir = import.meta.dirname;
const only = process.env.BENCH_ONLY?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const benches = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => !only || only.includes(f.replace(/\.bench\.ts$/, '')))
  .sort((a, b) => (a === 'engine.bench.ts' ? -1 : b === 'engine.bench.ts' ? 1 : a.localeCompare(b)));
const engines = (process.env.BENCH_ENGINE ?? 'dev').split(',').map((s) => s.trim());
for (const engine of engines) {
  if (engine !== 'dev' && engine !== 'postgres') {
    console.error(`BENCH_ENGINE: each entry must be "dev" or "postgres" (got "${engine}")`);
    process.exit(2);
  }
}
if (benches.length === 0) console.log(JSON.stringify({ benchmark: 'none', note: 'no benchmark matches' }));
let failed = 0;
for (const engine of engines) {
  for (const file of benches) {
    const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(dir, file)], {
      stdio: 'inherit',
      env: { ...process.env, BENCH_ENGINE: engine },
    });
    if (result.status !== 0) {
      failed++;
      console.log(JSON.stringify({ figure: 'bench_failed', engine, file, exit_code: result.status }));
    }
  }
}
process.exit(failed ? 1 : 0);
