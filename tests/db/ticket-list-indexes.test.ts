/**
 * The indexes lists count from: the statement the lister really sends is planned with the other
 * ways to its rows ruled out — scans of the whole table and bitmaps disabled, the single-column
 * indexes and the list order's index dropped inside a transaction that is rolled back — so the plan
 * names the index the capped count can be served from, or fails if a change to the query or to the
 * index parted them (a partial index whose condition the query no longer implies is never used).
 * On a database of its own, seeded and analysed: dropping an index, even inside a transaction, locks the
 * table, and the plan depends on the table's statistics.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userPrincipal, type Principal } from '../../src/auth/principal.js';
import { ticketLister, type TicketListQuery } from '../../src/commands/tickets/list.js';
import { createDb, type Db } from '../../src/db/index.js';
import { User } from '../../src/models/index.js';
import { scratchDatabase, type ScratchDatabase } from '../helpers/scratch.js';

let scratch: ScratchDatabase;
let db: Db;
let admin: Principal;

beforeAll(async () => {
  scratch = await scratchDatabase('list_indexes');
  db = createDb(scratch.url, { min: 0, max: 2 });
  const tag = randomBytes(4).toString('hex');
  const [row] = await db('users')
    .insert({ username: `idx_${tag}`, email: `idx_${tag}@example.test`, full_name: 'Index', password_hash: 'x', role: 'admin' })
    .returning('id');
  admin = userPrincipal((await User.query(db).findById(row.id))!);
  // enough rows, spread over statuses and priorities, for the planner's costs to mean something (on an
  // empty table every index costs the same and it picks any of them)
  await db.raw(
    `INSERT INTO tickets (id, title, description, priority, status, category, created_by_id, version)
     SELECT gen_random_uuid(), 'Ticket ' || i, '',
            (ARRAY['critical','high','medium','low'])[1 + i % 4],
            (ARRAY['open','under_investigation','paused','resolved'])[1 + (i / 4) % 4],
            (ARRAY['hardware','software','network','access'])[1 + (i / 16) % 4],
            ?, 1
       FROM generate_series(1, 4000) AS i`,
    [admin.user.id],
  );
  await db.raw('VACUUM ANALYZE tickets');
});

afterAll(async () => {
  await db?.destroy();
  await scratch?.drop();
});

interface PgConnection {
  query(sql: string, bindings?: readonly unknown[]): Promise<{ rows: Record<string, string>[] }>;
}

/** The plans of the statements a list sends, with the indexes `drop` names gone and whole-table scans and bitmaps disabled. */
async function plansOf(q: Partial<TicketListQuery>, drop: string[]): Promise<string> {
  const sent: { sql: string; bindings: readonly unknown[] }[] = [];
  const listen = (s: { sql: string; bindings: readonly unknown[] }) => sent.push(s);
  db.on('query', listen);
  try {
    await ticketLister({ principal: admin, db }, { page: 1, page_size: 20, ...q });
  } finally {
    db.off('query', listen);
  }
  const client = db.client as { acquireConnection(): Promise<PgConnection>; releaseConnection(c: PgConnection): Promise<void> };
  const connection = await client.acquireConnection();
  try {
    await connection.query('BEGIN');
    await connection.query('SET LOCAL enable_seqscan = off');
    await connection.query('SET LOCAL enable_bitmapscan = off');
    for (const index of drop) await connection.query(`DROP INDEX ${index}`);
    const plans: string[] = [];
    for (const s of sent.filter((x) => !x.sql.startsWith('EXPLAIN'))) {
      const { rows } = await connection.query(`EXPLAIN ${s.sql}`, s.bindings);
      plans.push(rows.map((r) => r['QUERY PLAN']).join('\n'));
    }
    return plans.join('\n');
  } finally {
    await connection.query('ROLLBACK');
    await client.releaseConnection(connection);
  }
}

describe('list counts', () => {
  it('by status and priority can be read from tickets_status_priority_idx', async () => {
    const plan = await plansOf({ status: ['open', 'under_investigation'], priority: ['critical'] }, [
      'tickets_status_idx',
      'tickets_priority_idx',
      'tickets_page_key_idx',
      'tickets_urgency_idx',
    ]);
    expect(plan).toMatch(/Index (Only )?Scan using tickets_status_priority_idx/);
  });
});
