/**
 * `npm run bench`: runs every bench/*.bench.ts in turn; each prints one JSON line per figure.
 * The benchmarks themselves arrive with the issues that own them (tickets, SLA, SSE, webhooks).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

const dir = import.meta.dirname;
const benches = readdirSync(dir).filter((f) => f.endsWith('.bench.ts')).sort();
if (benches.length === 0) {
  console.log(JSON.stringify({ benchmark: 'none', note: 'no benchmark exists yet; later issues add bench/*.bench.ts' }));
}
let failed = 0;
for (const file of benches) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(dir, file)], { stdio: 'inherit' });
  if (result.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
