/**
 * Storing events. Each insert also NOTIFYs `servicemeow_events` with the event's seq, in the same
 * transaction: PostgreSQL delivers the notification only if and when the transaction commits, so
 * every API instance listening hears of exactly the committed events (see events/hub.ts).
 */
import type { Knex } from 'knex';
import { Event } from '../models/index.js';

export const EVENTS_CHANNEL = 'servicemeow_events';

export async function insertEvent(trx: Knex | Knex.Transaction, row: Partial<Event>): Promise<Event> {
  const inserted = await Event.query(trx).insert(row).returning('*');
  await trx.raw('SELECT pg_notify(?, ?)', [EVENTS_CHANNEL, String(inserted.seq)]);
  return inserted;
}
