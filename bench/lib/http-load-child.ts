/** The child of `loadOverHttp`: runs one HttpLoad (its JSON in argv[2]) and prints its LoadResult as JSON. */
import { load } from './harness.js';
import type { HttpLoad } from './http-load.js';

const spec = JSON.parse(process.argv[2]!) as HttpLoad;

async function once(): Promise<number> {
  const r = await fetch(spec.url, { headers: spec.headers });
  await r.arrayBuffer(); // read, not parsed: parsing is the client's business, not the server's latency
  if (r.status !== 200) throw new Error(`GET ${spec.url}: ${r.status}`);
  return r.status;
}

if (spec.warmup) await load(spec.warmup, spec.concurrency, once);
process.stdout.write(JSON.stringify(await load(spec.n, spec.concurrency, once)));
