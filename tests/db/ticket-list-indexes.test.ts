/**
 * The indexes lists count from: the statement the lister really sends is planned here with scans
 * of the whole table and bitmaps ruled out, so the plan names the index PostgreSQL can serve the
 * capped count from — or fails, if a change to the query or to the index parted them (a partial
 * index whose condition the query no longer implies is silently never used).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Principal } from '../../src/auth/principal.js';
import { ticketLister, type TicketListQuery } from '../../src/commands/tickets/list.js';
import { createDb, type Db } from '../../src/db/index.js';
import { User } from '../../src/models/index.js';

let db: Db;
let admin: Principal;
const tag = randomBytes(4).toString('hex');

beforeAll(async () => {
  db = createDb(inject('databaseUrl'), { min: 0, max: 2 });
  const [row] = await db('users')
    .insert({ username: `idx_${tag}`, email: `idx_${tag}@example.test`, full_name: 'Index', password_hash: 'x', role: 'admin' })
    .returning('id');
  const user = (await User.query(db).findById(row.id))!;
  admin = { user, role: 'admin', actorType: 'user', apiKeyId: null, scopes: null, key: `test:${user.id}` };
});

afterAll(async () => {
  await db('users').where('username', `idx_${tag}`).delete();
  await db.destroy();
});

/** The plan of every statement a list sends, with sequential scans and bitmap scans disabled. */
async function plansOf(q: Partial<TicketListQuery>): Promise<string[]> {
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
    const plans: string[] = [];
    for (const s of sent.filter((x) => !x.sql.startsWith('EXPLAIN'))) {
      const { rows } = await connection.query(`EXPLAIN ${s.sql}`, s.bindings);
      plans.push(rows.map((r) => r['QUERY PLAN']).join('\n'));
    }
    return plans;
  } finally {
    await connection.query('ROLLBACK');
    await client.releaseConnection(connection);
  }
}

interface PgConnection {
  query(sql: string, bindings?: readonly unknown[]): Promise<{ rows: Record<string, string>[] }>;
}

describe('list counts', () => {
  it('by status and priority read tickets_status_priority_idx', async () => {
    const plans = await plansOf({ status: ['open', 'under_investigation'], priority: ['critical'] });
    expect(plans.join('\n')).toMatch(/Index (Only )?Scan using tickets_status_priority_idx/);
  });
});
