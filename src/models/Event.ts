import { BaseModel } from './BaseModel.js';

/** A stored event: the webhook envelope, also the source of the SSE stream. */
export class Event extends BaseModel {
  static override jsonAttributes = ['payload'];
  static override tableName = 'events';

  id!: string;
  seq!: number;
  /** id of the writing transaction (xid8, as text): with seq, the stream order (events/store.ts) */
  txid!: string;
  type!: string;
  ticketId!: string | null;
  payload!: { id: string; type: string; timestamp: string; data: Record<string, unknown> };
  dedupeKey!: string | null;
  createdAt!: Date;
}
