/**
 * Ticket list and search latency over 100,000 tickets (SPEC §13), through the API (auth, policy,
 * validation, query, count, presenter), c=8. Baselines in the same run: `GET /auth/me` (the API's
 * floor for an authenticated read) and the plain first-page query straight from knex (the
 * database's floor for a page). Rows are bulk-inserted with SQL: lists read PostgreSQL only, so
 * no workflow is needed (the Temporal client is lazy and never connects).
 *
 * Then the same lists through the lister alone (`ticketLister`, no HTTP, auth or JSON) in this
 * process, `lister_*` figures. BENCH_LISTER_BASE=<another checkout of this repository, with its
 * node_modules> runs that checkout's lister beside this one on the same database, interleaved
 * (BENCH_LISTER_ROUNDS rounds, default 2): how a change to the lister is compared
 * (`git worktree add ../base <commit>`). BENCH_SEARCH_LISTER_ONLY=1 skips the API figures.
 *
 * The API figures are requested from this process, sharing the API's event loop (the client reads
 * each body as bytes); BENCH_SEARCH_CLIENT=process requests them from a client process of its own
 * (bench/lib/http-load.ts) — on two cores that process competes for the CPU instead, and the ratios
 * came out no better. A list over EXACT_TOTAL_LIMIT is counted once per KNOWN_KEPT_MS; its
 * `_counted` figure counts on every request, as the first look at it does.
 */
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { userPrincipal, type Principal } from '../src/auth/principal.js';
import { signAccessToken } from '../src/auth/tokens.js';
import { loadConfig } from '../src/config/env.js';
import { keepKnownLists, KNOWN_KEPT_MS, ticketLister } from '../src/commands/tickets/list.js';
import { createDb, migrateLatest } from '../src/db/index.js';
import '../src/http/api-router.js'; // extends zod with the .openapi() the route schemas call
import { TicketListQuerySchema } from '../src/http/routes/tickets/schema.js';
import { createLogger } from '../src/logger.js';
import { Ticket, User } from '../src/models/index.js';
import { startHttpServer } from '../src/server.js';
import { load, report, round, scratchDatabase, type LoadResult } from './lib/harness.js';
import { loadOverHttp } from './lib/http-load.js';

const TICKETS = Number(process.env.BENCH_SEARCH_TICKETS ?? 100_000);
// `page=2000&page_size=20` and the cursor after it need 40,001 tickets
if (!(TICKETS > 40_000))
  throw new Error(`BENCH_SEARCH_TICKETS: at least 40,001 (the deep page is page 2000 of 20); got ${process.env.BENCH_SEARCH_TICKETS}`);
const N = Number(process.env.BENCH_SEARCH_N ?? 300);
const LISTER_BASE = process.env.BENCH_LISTER_BASE;
const LISTER_ROUNDS = Number(process.env.BENCH_LISTER_ROUNDS ?? 2);
const LISTER_ONLY = process.env.BENCH_SEARCH_LISTER_ONLY === '1';
const CLIENT_PROCESS = process.env.BENCH_SEARCH_CLIENT === 'process';
const CONCURRENCY = 8;

const scratch = await scratchDatabase();
const config = loadConfig({ DATABASE_URL: scratch.url, LOG_LEVEL: 'silent', RATE_LIMIT_PER_MINUTE: '100000000' });
const logger = createLogger('silent');
const db = createDb(scratch.url, { min: 2, max: 20 });
await migrateLatest(db);

const newUser = (username: string, role: 'admin' | 'agent') =>
  User.query(db)
    .insert({ username, email: `${username}@example.test`, fullName: username, role, isActive: true, passwordHash: 'x' } as Partial<User>)
    .returning('*');
const admin = await newUser('bench-admin', 'admin');
const agent = await newUser('bench-agent', 'agent');
const groups: string[] = (
  await db('groups')
    .insert(Array.from({ length: 10 }, (_, i) => ({ name: `Group ${i}` })))
    .returning('id')
).map((r: { id: string }) => r.id);
await db('group_memberships').insert({ groupId: groups[0], userId: agent.id });

const seeded = Date.now();
await db.raw(
  `INSERT INTO tickets (id, title, description, priority, status, category, tags, assigned_group_id, created_by_id, sla_breached, version, created_at, updated_at)
   SELECT gen_random_uuid(),
          (ARRAY['Printer','VPN','Laptop','Email','Wi-Fi','Password','Monitor','Badge','Phone','Database'])[1 + i % 10]
            || ' ' || (ARRAY['broken','slow','not working','access request','keeps crashing','needs setup','shows error 0x80','offline'])[1 + (i * 7) % 8]
            || ' in room ' || (i % 500),
          'Reported from floor ' || (i % 12) || '. ' || (ARRAY['The user cannot log in since this morning.','It worked yesterday after the update.',
            'Several colleagues see the same thing.','A reboot did not help.','The error appears when printing large files.',
            'Urgent: the quarterly report is due.','The device shows a blinking orange light.','Happens only on the guest network.'])[1 + (i * 3) % 8]
            || CASE WHEN i % 997 = 0 THEN ' Mentions the flux capacitor.' ELSE '' END,
          (ARRAY['critical','high','medium','low'])[1 + (i * 5) % 4],
          (ARRAY['open','under_investigation','paused','resolved'])[1 + (i * 11) % 4],
          (ARRAY['hardware','software','network','access'])[1 + i % 4],
          ARRAY[(ARRAY['printer','vpn','laptop','email','urgent','vip'])[1 + i % 6]],
          (?::uuid[])[1 + i % 10],
          ?,
          i % 20 = 0,
          1,
          now() - (i * interval '5 minutes'),
          now() - (i * interval '5 minutes')
     FROM generate_series(1, ?) AS i`,
  [groups, admin.id, TICKETS],
);
// what autovacuum does soon after a bulk load (visibility map for index-only counts, GIN pending list merged)
await db.raw('VACUUM ANALYZE tickets');
report('search_seed', { tickets: TICKETS, seconds: round((Date.now() - seeded) / 1000, 1) });

const temporal = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }), namespace: 'default' });
const api = await startHttpServer({ config, db, temporal, logger }, 0, '127.0.0.1');
const base = `http://127.0.0.1:${api.port}/api/v1`;
const tokens = { admin: signAccessToken(config, admin).token, agent: signAccessToken(config, agent).token };

interface Page {
  total?: number;
  total_is_estimate?: boolean;
  next_cursor?: string | null;
}

/**
 * One request, its body read as bytes: a client's parsing of the JSON is not the API's cost, and
 * here the client shares the API's process (and event loop). `get` parses it.
 */
async function fetchBytes(path: string, as: keyof typeof tokens = 'admin'): Promise<number> {
  const r = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${tokens[as]}` } });
  await r.arrayBuffer();
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status}`);
  return r.status;
}

async function get(path: string, as: keyof typeof tokens = 'admin'): Promise<Page> {
  const r = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${tokens[as]}` } });
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${await r.text()}`);
  return r.json() as Promise<Page>;
}

/** The principal the API resolves from each token: what the lister is given. */
const principals: Record<keyof typeof tokens, Principal> = {
  admin: userPrincipal(admin),
  agent: userPrincipal(agent),
};

try {
  const cases: Case[] = [
    ['list_first_page', '/tickets'],
    ['list_filtered_status_priority', '/tickets?status=open,under_investigation&priority=critical'],
    ['list_filtered_group_tag', `/tickets?assigned_group_id=${groups[3]}&tag=vip`],
    ['list_sla_breached', '/tickets?sla_breached=true'],
    ['list_sorted_by_priority', '/tickets?sort_by=priority'],
    ['list_deep_page', '/tickets?page=2000&page_size=20'],
    // the same depth by keyset: the cursor that follows page 2000
    ['list_deep_cursor', `/tickets?page_size=20&cursor=${(await get('/tickets?page=2000&page_size=20')).next_cursor}`],
    ['list_as_agent', '/tickets', 'agent'],
    ['search_common_word', '/tickets?search=printer'],
    ['search_common_word_next_page', `/tickets?search=printer&cursor=${(await get('/tickets?search=printer')).next_cursor}`],
    ['search_phrase', '/tickets?search=%22blinking%20orange%22%20printer'],
    ['search_rare_word', '/tickets?search=capacitor'],
    ['search_exact_number', '/tickets?search=ASM-50000'],
  ];
  if (!LISTER_ONLY) await throughTheApi(cases);
  await throughTheLister(cases);
} finally {
  await api.close();
  await db.destroy();
  await scratch.drop();
}

type Case = [figure: string, path: string, as?: keyof typeof tokens];

/** `path` requested N times, c=8, from this process (BENCH_SEARCH_CLIENT=process: from a process of its own). */
async function measure(path: string, as: keyof typeof tokens = 'admin', warmup = 0): Promise<LoadResult> {
  const headers = { authorization: `Bearer ${tokens[as]}` };
  if (CLIENT_PROCESS) return loadOverHttp({ url: `${base}${path}`, headers, n: N, concurrency: CONCURRENCY, warmup });
  if (warmup) await load(warmup, CONCURRENCY, () => fetchBytes(path, as));
  return load(N, CONCURRENCY, () => fetchBytes(path, as));
}

async function throughTheApi(cases: Case[]) {
  for (const [, path, as] of cases) await load(30, CONCURRENCY, () => fetchBytes(path, as)); // warm-up

  const me = await measure('/auth/me', 'admin', 30);
  report('baseline_auth_me', { ...me });
  const raw = await load(N, CONCURRENCY, () => db('tickets').whereNull('deletedAt').orderBy('createdAt', 'desc').orderBy('id').limit(20));
  report('baseline_sql_first_page', { ...raw });
  // what an exact `total` of every live ticket costs (the list counted this on every page before the estimate)
  const count = await load(N, CONCURRENCY, () => db('tickets').whereNull('deletedAt').count('* as n'));
  report('baseline_sql_exact_count_all', { ...count });

  const estimated: Case[] = [];
  for (const [figure, path, as] of cases) {
    const { total, total_is_estimate } = await get(path, as);
    if (total_is_estimate) estimated.push([figure, path, as]);
    const r = await measure(path, as, 30);
    report(figure, {
      tickets: TICKETS,
      matches: total,
      total_is_estimate,
      ...r,
      p50_vs_auth_me: round(r.p50_ms / me.p50_ms, 1),
      p99_vs_auth_me: round(r.p99_ms / me.p99_ms, 1),
    });
  }
  // a list over the limit is counted once a while (KNOWN_KEPT_MS); here every request counts, as the
  // first look at a list does
  keepKnownLists(0);
  for (const [figure, path, as] of estimated) {
    const r = await measure(path, as, 30);
    report(`${figure}_counted`, { ...r, p50_vs_auth_me: round(r.p50_ms / me.p50_ms, 1), p99_vs_auth_me: round(r.p99_ms / me.p99_ms, 1) });
  }
  keepKnownLists(KNOWN_KEPT_MS);
}

type Lister = typeof ticketLister;

/** Each list through `ticketLister` alone (its query parsed by the route's schema), c=8; with a base checkout, both interleaved. */
async function throughTheLister(cases: Case[]) {
  const base: Lister | null = LISTER_BASE
    ? ((await import(path.resolve(LISTER_BASE, 'src/commands/tickets/list.ts'))) as { ticketLister: Lister }).ticketLister
    : null;
  // the columns a list reads, straight from knex: every column (what lists read before) and the presented ones
  const all = await load(N, CONCURRENCY, () => db('tickets').whereNull('deletedAt').orderBy('createdAt', 'desc').orderBy('id').limit(21));
  const presented = await load(N, CONCURRENCY, () =>
    db('tickets').select(Ticket.presentedColumns).whereNull('deletedAt').orderBy('createdAt', 'desc').orderBy('id').limit(21),
  );
  report('baseline_sql_first_page_columns', {
    every_column: all,
    presented_columns: presented,
    change: round(presented.per_second / all.per_second - 1, 2),
  });
  for (const [figure, url, as = 'admin'] of cases) {
    const query = TicketListQuerySchema.parse(Object.fromEntries(new URL(url, 'http://x').searchParams));
    const ctx = { principal: principals[as], db };
    const run = (lister: Lister) => load(N, CONCURRENCY, () => lister(ctx, query));
    await run(ticketLister); // warm-up
    if (base) await run(base);
    const rounds: { base?: number; current: number; p99_ms: number; errors: number }[] = [];
    for (let r = 0; r < (base ? LISTER_ROUNDS : 1); r++) {
      const before = base ? await run(base) : null;
      const current = await run(ticketLister);
      rounds.push({
        ...(before ? { base: before.per_second } : {}),
        current: current.per_second,
        p99_ms: current.p99_ms,
        errors: (current.errors ?? 0) + (before?.errors ?? 0),
      });
    }
    report(`lister_${figure}`, {
      per_second: rounds.map((r) => r.current),
      p99_ms: rounds.map((r) => r.p99_ms),
      errors: rounds.reduce((n, r) => n + r.errors, 0),
      ...(base
        ? { base: LISTER_BASE, base_per_second: rounds.map((r) => r.base), change: rounds.map((r) => round(r.current / r.base! - 1, 2)) }
        : {}),
    });
  }
}
