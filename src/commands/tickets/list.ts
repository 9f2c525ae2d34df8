/**
 * ticketLister: filters, sort, pagination and search over the read model, restricted to what the
 * caller may see. Search is PostgreSQL full text (title weighted over description, ranked with
 * ts_rank_cd, websearch syntax) or, for `ASM-…`, the exact ticket number. Pages by `page` (OFFSET) or,
 * at any depth for the cost of the first, by the keyset cursor of the previous page (cursor.ts).
 */
import type { Knex } from 'knex';
import { raw, type QueryBuilder } from 'objection';
import { forbidden } from '../../errors/index.js';
import { Ticket } from '../../models/index.js';
import { canReadTickets, visibleTo, type SqlVisibility } from '../../policies/tickets.js';
import { TICKET_NUMBER_PATTERN, type TicketPriority, type TicketStatus } from '../../../workflows/vocabulary.js';
import type { CommandContext } from '../context.js';
import { decodeCursor, encodeCursor, invalidCursor, keysetAfter, type SortKey } from './cursor.js';
import { visibilityOf } from '../../store/tickets.js';

export const TICKET_SORTS = ['created_at', 'updated_at', 'priority', 'status', 'ticket_number', 'title'] as const;

export interface TicketListQuery {
  page: number;
  page_size: number;
  status?: TicketStatus[];
  priority?: TicketPriority[];
  assigned_group_id?: string;
  assigned_user_id?: string;
  created_by_id?: string;
  category?: string;
  tag?: string;
  sla_breached?: boolean;
  search?: string;
  /** changed at or after this instant */
  updated_since?: Date;
  /** assigned to this user or to one of these groups (a queue) */
  assigned_to_any?: { user_id: string; group_ids: string[] };
  /** ticket numbers starting with this (completions) */
  number_prefix?: string;
  sort_by?: (typeof TICKET_SORTS)[number];
  sort_order?: 'asc' | 'desc';
  /** `next_cursor` of the previous page: continue after its last row (`page` is then not used) */
  cursor?: string;
}

// Sorting by priority means by urgency, not alphabetically.
/** Most urgent first; an index holds this exact expression (migrations/20261123000100). */
export const PRIORITY_RANK = "CASE priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END";
const RANK = "ts_rank_cd(search_vector, websearch_to_tsquery('english', ?))";
/** the PostgreSQL type of each sortable column, for the cursor's typed comparison */
const SORT_TYPES: Record<Exclude<(typeof TICKET_SORTS)[number], 'priority'>, string> = {
  created_at: 'timestamptz',
  updated_at: 'timestamptz',
  status: 'text',
  ticket_number: 'text',
  title: 'varchar',
};

/**
 * Up to this many matches `total` is an exact count; beyond, counting every match would cost more
 * than the page itself, so `total` is the planner's estimate (never below what is known to exist)
 * and `total_is_estimate` says so. Counting is linear in the matches: over 100,000 tickets a count
 * capped at 10,001 took 14 ms of a filtered page's 24, capped at 1,001 it takes 1.3 ms (issue 19),
 * and a list whose filters the indexes serve only in part (a group and a tag, an agent's visibility)
 * visits a row per match counted. Once a list is known to exceed the limit it is not counted again
 * for KNOWN_KEPT_MS (see `countsOf`). A ranked search always counts exactly: it reads every
 * match to rank them anyway.
 */
export const EXACT_TOTAL_LIMIT = 1_000;

export interface TicketListPage {
  results: Ticket[];
  total: number;
  /** `total` is an estimate (more than EXACT_TOTAL_LIMIT matches) */
  totalIsEstimate: boolean;
  /** continues after the last row of this page (keyset); null on the last page */
  nextCursor: string | null;
  /** this page's number: `q.page`, or where the cursor continues */
  page: number;
}

interface KeyedTicket extends Ticket {
  cursorKey?: string[];
  fullCount?: string;
  searchRank?: number;
  cappedCount?: string;
}

export async function ticketLister(ctx: Pick<CommandContext, 'principal' | 'db'>, q: TicketListQuery): Promise<TicketListPage> {
  if (!canReadTickets(ctx.principal)) throw forbidden('This API key may not read tickets.');
  const visibility = await visibilityOf(ctx.db, ctx.principal);
  const byNumber = q.search && TICKET_NUMBER_PATTERN.test(q.search);
  const ranked = Boolean(q.search && !byNumber);
  const counts = ranked ? null : countsOf(ctx.db, listKey(q, visibility));
  const over = counts?.over();
  /** the live tickets this caller may see that match the filters (no order, no page) */
  const matching = (scope = visibility) => {
    const query = Ticket.query(ctx.db).whereNull('deleted_at');
    if (scope) query.where(visibleTo(scope));
    if (q.status?.length) query.whereIn('status', q.status);
    if (q.priority?.length) query.whereIn('priority', q.priority);
    if (q.assigned_group_id) query.where('assigned_group_id', q.assigned_group_id);
    if (q.assigned_user_id) query.where('assigned_user_id', q.assigned_user_id);
    if (q.created_by_id) query.where('created_by_id', q.created_by_id);
    if (q.category) query.where('category', q.category);
    if (q.tag) query.whereRaw('tags @> ARRAY[?]::text[]', [q.tag]);
    if (q.sla_breached !== undefined) query.where('sla_breached', q.sla_breached);
    if (q.assigned_to_any) {
      const { user_id, group_ids } = q.assigned_to_any;
      query.where((w) => w.where('assigned_user_id', user_id).orWhereIn('assigned_group_id', group_ids));
    }
    if (q.updated_since) query.where('updated_at', '>=', q.updated_since);
    if (q.number_prefix) query.whereLike('ticket_number', `${q.number_prefix.toUpperCase().replace(/[\\%_]/g, '')}%`);
    if (byNumber) query.where('ticket_number', q.search!.toUpperCase());
    else if (ranked) query.whereRaw("search_vector @@ websearch_to_tsquery('english', ?)", [q.search]);
    return query;
  };

  // The ORDER BY, as keys a cursor can continue from: the sort, then newest first, then id.
  const order = q.sort_order ?? 'desc';
  const keys: SortKey[] = [];
  if (q.sort_by === 'priority') keys.push({ sql: PRIORITY_RANK, bindings: [], dir: order === 'desc' ? 'asc' : 'desc', type: 'int' });
  else if (q.sort_by && q.sort_by !== 'created_at')
    keys.push({ sql: `tickets.${q.sort_by}`, bindings: [], dir: order, type: SORT_TYPES[q.sort_by] });
  else if (!q.sort_by && ranked) keys.push({ sql: RANK, bindings: [q.search], dir: 'desc', type: 'real' });
  keys.push({ sql: 'tickets.created_at', bindings: [], dir: q.sort_by === 'created_at' ? order : 'desc', type: 'timestamptz' });
  keys.push({ sql: 'tickets.id', bindings: [], dir: 'asc', type: 'uuid' });
  const rankFirst = keys[0]!.sql === RANK;
  const sort = `${q.sort_by ?? (ranked ? 'rank' : 'created_at')}:${order}:${ranked ? q.search : ''}`;
  const cursor = q.cursor ? decodeCursor(q.cursor, sort, keys.length) : null;
  const offset = cursor ? cursor.offset : (q.page - 1) * q.page_size;

  // The page is found by its ids alone (what a deep OFFSET skips is read from the index, never the
  // wide rows; a ranked search sorts narrow tuples), then its rows are read by primary key.
  // Ranked by relevance, each match is scored once in a subquery the planner keeps (OFFSET 0), and
  // the keys refer to its score: a cursor's comparisons would otherwise rank every match up to
  // three times more.
  const scored = rankFirst ? matching().select('tickets.id', 'tickets.created_at', raw(`${RANK} AS search_rank`, [q.search])) : null;
  const pageKeys = keys.map((k) => (k.sql === RANK ? { ...k, sql: 'tickets.search_rank', bindings: [] } : k));
  const page = scored
    ? Ticket.query(ctx.db)
        .from(raw('(? OFFSET 0) AS tickets', [scored.toKnexQuery()]))
        .select('tickets.id', 'tickets.search_rank')
    : matching().select('tickets.id');
  // a ranked search reads every match to rank them: counting them on the way is free (after a
  // cursor, it counts what follows the cursor)
  if (ranked) page.select(raw('count(*) OVER () AS full_count'));
  if (cursor) {
    const after = keysetAfter(pageKeys, cursor.key);
    page.whereRaw(after.sql, after.bindings);
  } else if (offset) page.offset(offset);
  for (const k of pageKeys) page.orderByRaw(`${k.sql} ${k.dir}`, k.bindings as unknown[]);
  page.limit(q.page_size + 1);

  // the rank is computed once per match (carried from the page); the other keys as PostgreSQL prints them
  const printed = keys.filter((k) => k.sql !== RANK);
  const query = Ticket.query(ctx.db)
    .with('page', page)
    .select(Ticket.presentedColumns.map((c) => `tickets.${c}`))
    .select(
      raw(
        `ARRAY[${printed.map((k) => `(${k.sql})::text`).join(', ')}] AS cursor_key`,
        printed.flatMap((k) => k.bindings),
      ),
    )
    .join('page', 'page.id', 'tickets.id');
  if (rankFirst) query.select('page.search_rank');
  if (ranked) query.select('page.full_count');
  // the matches counted (up to the limit) in the same statement, and only when the page shows there
  // are more than it holds: PostgreSQL runs a subquery in an untaken CASE branch not at all
  else if (!over)
    query.select(
      raw('CASE WHEN (SELECT count(*) FROM page) > ? THEN (?) END AS capped_count', [
        q.page_size,
        cappedCount(ctx.db, matching(), EXACT_TOTAL_LIMIT),
      ]),
    );
  for (const k of keys) {
    if (k.sql === RANK) query.orderBy('page.search_rank', 'desc');
    else query.orderByRaw(`${k.sql} ${k.dir}`, k.bindings as unknown[]);
  }
  const rows = (await query.catch((err: unknown) => {
    // a key PostgreSQL cannot read back as its type (class 22: a forged or damaged cursor)
    const code =
      ((err as { nativeError?: { code?: unknown } }).nativeError as { code?: unknown } | undefined)?.code ??
      (err as { code?: unknown }).code;
    if (cursor && typeof code === 'string' && code.startsWith('22'))
      throw invalidCursor('The cursor does not fit this list; pass next_cursor unchanged.');
    throw err;
  })) as KeyedTicket[];
  const more = rows.length > q.page_size;
  const results = rows.slice(0, q.page_size);
  const last = results.at(-1);
  const nextCursor =
    more && last
      ? encodeCursor({
          sort,
          key: rankFirst ? [String(last.searchRank), ...last.cursorKey!] : last.cursorKey!,
          offset: offset + results.length,
        })
      : null;

  let total: number;
  let totalIsEstimate = false;
  if (ranked && rows[0]) total = (cursor ? offset : 0) + Number(rows[0].fullCount);
  else if (!more && (results.length || offset === 0)) total = offset + results.length;
  else {
    // counted with the page; past the end of the matches (no row to carry it), on its own
    const counted = over ? over.counted : more ? Number(rows[0]!.cappedCount) : await countUpTo(ctx.db, matching(), EXACT_TOTAL_LIMIT);
    if (counted <= EXACT_TOTAL_LIMIT) total = counted;
    else {
      // planned with the reader's group ids: a subquery's rows are a guess to the planner (a third of
      // the tickets for an agent who sees a tenth)
      const estimate = over?.estimate ?? (await estimateRows(ctx.db, matching(await visibilityOf(ctx.db, ctx.principal, true))));
      if (!over) counts!.keep(counted, estimate);
      total = Math.max(estimate, counted, rows.length ? offset + rows.length : 0);
      totalIsEstimate = true;
    }
  }
  for (const row of rows) {
    delete row.cursorKey;
    delete row.fullCount;
    delete row.searchRank;
    delete row.cappedCount;
  }
  return { results, total, totalIsEstimate, nextCursor, page: Math.floor(offset / q.page_size) + 1 };
}

/** The statement that counts the matches, but no further than `limit + 1`. */
function cappedCount(db: Knex, matching: QueryBuilder<Ticket>, limit: number): Knex.QueryBuilder {
  const capped = matching
    .clearSelect()
    .select(raw('1'))
    .limit(limit + 1);
  return db.count('*').from(capped.toKnexQuery().as('capped'));
}

/** Matches counted, but no further than `limit + 1`. */
async function countUpTo(db: Knex, matching: QueryBuilder<Ticket>, limit: number): Promise<number> {
  const row = (await cappedCount(db, matching, limit).first()) as { count: string };
  return Number(row.count);
}

/**
 * What a list is known to exceed, kept for a while per database: a list over EXACT_TOTAL_LIMIT shows
 * an estimate anyway, so the count that found it over (a row visited per match, up to the limit) is
 * not taken again for every page and every reload of the same view, nor the estimate planned again
 * (it comes from the table's statistics, changed by ANALYZE). For at most KNOWN_KEPT_MS a list that
 * shrank below the limit still shows an estimate, flagged as one. Keyed by the filters and the
 * reader; bounded, oldest dropped first.
 */
export const KNOWN_KEPT_MS = 30_000;
const KNOWN_LISTS = 1_000;
const known = new WeakMap<Knex, Map<string, { counted: number; estimate: number; at: number }>>();

/** The filters of a list and whose visibility it is read in (not its page, order or size). */
function listKey(q: TicketListQuery, visibility: SqlVisibility | null): string {
  return JSON.stringify([
    visibility?.userId ?? null,
    q.status,
    q.priority,
    q.assigned_group_id,
    q.assigned_user_id,
    q.created_by_id,
    q.category,
    q.tag,
    q.sla_breached,
    q.search,
    q.updated_since?.toISOString(),
    q.assigned_to_any,
    q.number_prefix,
  ]);
}

/** What is known of the list `key` names: `over()` while it is known over the limit; `keep` records that. */
function countsOf(db: Knex, key: string) {
  let kept = known.get(db);
  if (!kept) known.set(db, (kept = new Map()));
  const lists = kept;
  return {
    over() {
      const hit = lists.get(key);
      if (!hit || Date.now() - hit.at < knownKeptMs) return hit;
      lists.delete(key);
      return undefined;
    },
    keep(counted: number, estimate: number): void {
      lists.delete(key);
      if (lists.size >= KNOWN_LISTS) lists.delete(lists.keys().next().value!);
      lists.set(key, { counted, estimate, at: Date.now() });
    },
  };
}

let knownKeptMs = KNOWN_KEPT_MS;

/** How long what is known of a list is kept (0: count every page, as a benchmark of a first look does). */
export function keepKnownLists(ms: number): void {
  knownKeptMs = ms;
}

/** The planner's estimate of the matches (statistics only, nothing is read). */
async function estimateRows(db: Knex, matching: QueryBuilder<Ticket>): Promise<number> {
  const { sql, bindings } = matching.clearSelect().select(raw('1')).toKnexQuery().toSQL();
  const { rows } = await db.raw<{ rows: { 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }[] }>(
    `EXPLAIN (FORMAT JSON) ${sql}`,
    bindings as Knex.RawBinding[],
  );
  return Math.round(rows[0]!['QUERY PLAN'][0].Plan['Plan Rows']);
}
