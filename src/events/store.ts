/**
 * Storing events and reading them back in stream order.
 *
 * Each insert also NOTIFYs `servicemeow_events` with the event's seq, in the same transaction:
 * PostgreSQL delivers the notification only if and when the transaction commits, so every API
 * instance listening hears of each commit (see events/hub.ts). The notification is only a wake-up:
 * what is read is decided by the position rule below.
 *
 * Why not seq alone: seq is taken at insert, visibility comes at commit, and transactions commit
 * out of seq order — a reader that moves past seq 7 while the transaction holding seq 6 is still
 * open never sees 6. Each row also stores the id of the transaction that wrote it (`txid`, xid8).
 * Every transaction whose id is below the xmin of the reader's snapshot has finished, and every
 * transaction still to write an event has an id at or above it. So events are read in
 * (txid, seq) order and only below that horizon: a position, once passed, can never gain an
 * event. The same rule serves live delivery and `Last-Event-ID` replay.
 */
import type { Knex } from 'knex';
import { Event } from '../models/index.js';

export const EVENTS_CHANNEL = 'servicemeow_events';

export async function insertEvent(trx: Knex | Knex.Transaction, row: Partial<Event>): Promise<Event> {
  const inserted = await Event.query(trx).insert(row).returning('*');
  await trx.raw('SELECT pg_notify(?, ?)', [EVENTS_CHANNEL, String(inserted.seq)]);
  return inserted;
}

/** Where an event stands in the stream: (writing transaction's id, seq), compared in that order. */
export interface StreamPosition {
  txid: bigint;
  seq: number;
}

export function positionOf(event: Pick<Event, 'txid' | 'seq'>): StreamPosition {
  return { txid: BigInt(event.txid), seq: event.seq };
}

/** The stream position of the stored event `id` (e.g. a Last-Event-ID), or null if there is none. */
export async function positionOfEvent(db: Knex, id: string): Promise<StreamPosition | null> {
  const event = await Event.query(db).select('txid', 'seq').findById(id);
  return event ? positionOf(event) : null;
}

/** Whether `a` comes after `b` in the stream. */
export function isAfter(a: StreamPosition, b: StreamPosition): boolean {
  return a.txid !== b.txid ? a.txid > b.txid : a.seq > b.seq;
}

/** The horizon of a snapshot taken now: every event from now on sorts after this position. */
export async function currentHorizon(db: Knex): Promise<StreamPosition> {
  const { rows } = await db.raw<{ rows: { horizon: string }[] }>('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon');
  return { txid: BigInt(rows[0]!.horizon), seq: 0 };
}

export interface SettledEvents {
  /** committed events after the position, in stream order, all below the horizon */
  events: Event[];
  /** events after the position that exist but may not be passed yet (an older transaction is open) */
  held: boolean;
  /** the read hit its limit: more may follow */
  more: boolean;
}

/** The oldest transaction still open, as of the statement's snapshot (stable within a statement). */
const HORIZON = 'pg_snapshot_xmin(pg_current_snapshot())';

/** How many events follow `from` (settled or not) that match `filter`, counted up to `limit`. */
export async function countAfter(
  db: Knex,
  from: StreamPosition,
  limit: number,
  filter: { ticketId?: string; types?: string[] } = {},
): Promise<number> {
  const q = db('events').select(db.raw('1')).whereRaw('(txid, seq) > (?::xid8, ?)', [from.txid.toString(), from.seq]).limit(limit);
  if (filter.ticketId) q.where('ticket_id', filter.ticketId);
  if (filter.types?.length) q.whereIn('type', filter.types);
  const row = (await db.count('* as n').from(q.as('after')).first()) as { n: string };
  return Number(row.n);
}

/**
 * Up to `limit` events after `from` that no open transaction can precede, in stream order. The
 * horizon, the rows and the `held` flag come from one statement (one snapshot); rows past the
 * horizon are not fetched, only noticed. Optional filters narrow a replay.
 */
export async function readSettled(
  db: Knex,
  from: StreamPosition,
  limit: number,
  filter: { ticketId?: string; types?: string[] } = {},
): Promise<SettledEvents> {
  const after = [from.txid.toString(), from.seq];
  const q = Event.query(db)
    .select(
      'events.*',
      db.raw(`EXISTS (SELECT 1 FROM events w WHERE (w.txid, w.seq) > (?::xid8, ?) AND w.txid >= ${HORIZON}) AS held`, after),
    )
    .whereRaw('(txid, seq) > (?::xid8, ?)', after)
    .whereRaw(`txid < ${HORIZON}`)
    .orderBy([{ column: 'txid' }, { column: 'seq' }])
    .limit(limit);
  if (filter.ticketId) q.where('ticket_id', filter.ticketId);
  if (filter.types?.length) q.whereIn('type', filter.types);
  const rows = (await q) as (Event & { held?: boolean })[];
  let held = rows[0]?.held ?? false;
  for (const row of rows) delete row.held;
  if (!rows.length) {
    // Nothing settled: is anything after `from` at all (held then, or settled since)?
    const { rows: probe } = await db.raw<{ rows: { pending: boolean }[] }>(
      'SELECT EXISTS (SELECT 1 FROM events WHERE (txid, seq) > (?::xid8, ?)) AS pending',
      after,
    );
    held = probe[0]!.pending;
  }
  return { events: rows, held, more: rows.length === limit };
}
