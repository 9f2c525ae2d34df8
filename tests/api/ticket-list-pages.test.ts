/**
 * Ticket list paging: keyset cursors (`next_cursor` → `cursor`) walk every ticket once, in the same
 * order as `page`, for each sort, across ties in the sort key and in `created_at` (µs apart and
 * equal); a cursor that was edited or belongs to another sort is a 422; `total` is exact up to
 * EXACT_TOTAL_LIMIT and flagged as an estimate beyond, and a list known to be beyond is not counted
 * again for KNOWN_KEPT_MS. Rows are inserted straight into the read
 * model (lists read only PostgreSQL).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EXACT_TOTAL_LIMIT, KNOWN_KEPT_MS } from '../../src/commands/tickets/list.js';
import type { User } from '../../src/models/index.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';
import { signedIn } from '../helpers/factories.js';

let h: Harness;
let admin: { token: string; user: User };

/** `n` tickets in category `category`: four share one created_at, the rest are 1 µs apart; titles and priorities repeat. */
async function seed(category: string, n: number): Promise<void> {
  await h.db.raw(
    `INSERT INTO tickets (id, title, description, priority, status, category, created_by_id, created_at, updated_at)
     SELECT gen_random_uuid(), 'Printer ' || (i % 7) || CASE WHEN i % 3 = 0 THEN ' printer jam' ELSE '' END, 'paper',
            (ARRAY['critical','high','medium','low'])[1 + i % 4], 'open', ?, ?,
            timestamptz '2026-11-01 10:00:00.000001' + (GREATEST(i, 4) * interval '1 microsecond'),
            timestamptz '2026-11-01 10:00:00' + ((i % 5) * interval '1 second')
       FROM generate_series(1, ?) AS i`,
    [category, admin.user.id, n],
  );
}

async function list(query: string) {
  const res = await call(h, 'GET', `/api/v1/tickets?${query}`, { token: admin.token });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as {
    items: { id: string }[];
    total: number;
    page: number;
    pages: number;
    next_cursor: string | null;
    total_is_estimate: boolean;
  };
}

beforeAll(async () => {
  h = await startHarness({ worker: false, scratch: 'ticket_list_pages' });
  admin = await signedIn(h, 'admin');
  await seed('walk', 47);
}, 60_000);
afterAll(() => h?.stop());

describe('keyset cursors', () => {
  for (const sort of ['', '&sort_by=title&sort_order=asc', '&sort_by=priority', '&sort_by=updated_at&sort_order=asc', '&search=printer']) {
    it(`walk every ticket once, in page order${sort || ' (default sort)'}`, async () => {
      const base = `category=walk&page_size=10${sort}`;
      const byPage: string[] = [];
      for (let page = 1; page <= 5; page++) byPage.push(...(await list(`${base}&page=${page}`)).items.map((t) => t.id));
      const byCursor: string[] = [];
      let body = await list(base);
      const pages = [body.page];
      byCursor.push(...body.items.map((t) => t.id));
      while (body.next_cursor) {
        body = await list(`${base}&cursor=${body.next_cursor}`);
        pages.push(body.page);
        byCursor.push(...body.items.map((t) => t.id));
      }
      const expected = sort.includes('search') ? 16 : 47; // i % 3 = 0 → "printer jam" in the title; every title says Printer
      expect(byCursor).toEqual(byPage);
      expect(new Set(byCursor).size).toBe(byCursor.length);
      expect(byCursor.length).toBe(sort.includes('search') ? (await list(base)).total : expected);
      expect(pages).toEqual(pages.map((_, i) => i + 1));
      expect(body).toMatchObject({ total: byCursor.length, total_is_estimate: false, next_cursor: null });
    });
  }

  it('refuses a cursor that was edited, or that belongs to another sort, with 422', async () => {
    const { next_cursor } = await list('category=walk&page_size=10');
    const edited = await call(h, 'GET', `/api/v1/tickets?cursor=${next_cursor!.slice(0, -4)}`, { token: admin.token });
    expect(edited.status).toBe(422);
    expect(edited.body.error).toMatchObject({ code: 'validation_error', details: [{ in: 'query', path: 'cursor' }] });
    const otherSort = await call(h, 'GET', `/api/v1/tickets?sort_by=title&cursor=${next_cursor}`, { token: admin.token });
    expect(otherSort.status).toBe(422);
    const garbage = await call(
      h,
      'GET',
      `/api/v1/tickets?cursor=${Buffer.from('["created_at:desc:",["x","y"],-1]').toString('base64url')}`,
      {
        token: admin.token,
      },
    );
    expect(garbage.status).toBe(422);
    const wrongType = await call(
      h,
      'GET',
      `/api/v1/tickets?cursor=${Buffer.from('["created_at:desc:",["x","y"],0]').toString('base64url')}`,
      {
        token: admin.token,
      },
    );
    expect(wrongType.status).toBe(422);
  });
});

describe('total', () => {
  it(`is exact up to ${EXACT_TOTAL_LIMIT}, an estimate flagged as such beyond`, async () => {
    await seed('many', EXACT_TOTAL_LIMIT + 50);
    await h.db.raw('ANALYZE tickets');
    const many = await list('category=many');
    expect(many.total_is_estimate).toBe(true);
    expect(many.total).toBeGreaterThan(EXACT_TOTAL_LIMIT);
    expect(many.pages).toBe(Math.ceil(many.total / 20));
    const exact = await list('category=many&priority=critical');
    expect(exact).toMatchObject({ total: Math.floor((EXACT_TOTAL_LIMIT + 50) / 4), total_is_estimate: false });
    // past the end of an estimated list: nothing there, and no total below what was skipped
    const beyond = await list(`category=many&page=${EXACT_TOTAL_LIMIT}`);
    expect(beyond.items).toEqual([]);
    expect(beyond.total).toBeGreaterThan(EXACT_TOTAL_LIMIT);
  }, 60_000);

  it('is read with its page in one statement; a list over the limit is counted and planned once a while, not per page', async () => {
    await seed('statements', EXACT_TOTAL_LIMIT + 50);
    await h.db.raw('ANALYZE tickets');
    const statements: string[] = [];
    const onQuery = (q: { sql: string }) => {
      if (/\btickets\b/.test(q.sql)) statements.push(q.sql);
    };
    h.db.on('query', onQuery);
    try {
      const first = await list('category=statements');
      expect(first).toMatchObject({ total_is_estimate: true });
      const pageAndCount = statements.filter((sql) => !sql.startsWith('EXPLAIN'));
      expect(pageAndCount).toHaveLength(1);
      expect(pageAndCount[0]).toContain('capped_count');
      expect(statements.filter((sql) => sql.startsWith('EXPLAIN'))).toHaveLength(1);

      // known over the limit: the next page and a reload are not counted again
      statements.length = 0;
      const second = await list('category=statements&page=2');
      expect(second).toMatchObject({ total: first.total, total_is_estimate: true });
      expect(statements).toHaveLength(1);
      expect(statements[0]).not.toContain('capped_count');
      statements.length = 0;
      expect(await list('category=statements')).toMatchObject({ total: first.total, total_is_estimate: true });
      expect(statements).toHaveLength(1);
      expect(statements[0]).not.toContain('capped_count');
      // past the end of it: nothing there, no count taken, no total below what was skipped
      statements.length = 0;
      const beyond = await list(`category=statements&page=${EXACT_TOTAL_LIMIT}`);
      expect(beyond.items).toEqual([]);
      expect(beyond.total).toBeGreaterThan(EXACT_TOTAL_LIMIT);
      expect(statements).toHaveLength(1);
      // KNOWN_KEPT_MS later it is counted again
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.now() + KNOWN_KEPT_MS + 1);
      statements.length = 0;
      expect(await list('category=statements')).toMatchObject({ total_is_estimate: true });
      expect(statements.filter((sql) => sql.includes('capped_count'))).toHaveLength(1);

      // fewer matches than the limit: counted exactly inside the page statement, no estimate
      statements.length = 0;
      const short = await list('category=statements&priority=critical&page_size=100');
      expect(short.items).toHaveLength(100);
      expect(short).toMatchObject({ total: Math.floor((EXACT_TOTAL_LIMIT + 50) / 4), total_is_estimate: false });
      expect(statements).toHaveLength(1);
    } finally {
      vi.useRealTimers();
      h.db.off('query', onQuery);
    }
  }, 60_000);
});
