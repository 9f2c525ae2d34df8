/**
 * The live event fan-out of one API instance. One dedicated PostgreSQL connection LISTENs on the
 * events channel; each notification names a committed event's seq, the hub fetches those rows in
 * batches and offers each to every subscriber, which applies its own filters and visibility. Works
 * across any number of instances: every instance hears every commit, whichever process made it.
 * After the listening connection drops, the hub reconnects and catches up from the last seq seen.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import type { Db } from '../db/index.js';
import { Event } from '../models/index.js';
import { EVENTS_CHANNEL } from './store.js';

export interface HubSubscriber {
  /** called for every committed event, in commit order */
  deliver(event: Event): void;
  /** comment line to keep proxies and clients from timing out */
  heartbeat(): void;
  close(reason: string): void;
}

export interface HubOptions {
  heartbeatMs?: number;
}

export class EventHub {
  private readonly subscribers = new Set<HubSubscriber>();
  private listener: pg.Client | null = null;
  private starting: Promise<void> | null = null;
  private readonly pending = new Set<number>();
  private flushing: Promise<void> | null = null;
  private lastSeq = 0;
  private heartbeat: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly databaseUrl: string,
    private readonly logger: Logger,
    private readonly options: HubOptions = {},
  ) {}

  get size(): number {
    return this.subscribers.size;
  }

  /** Register a subscriber (starting the listener on first use); returns its unsubscribe. */
  async subscribe(sub: HubSubscriber): Promise<() => void> {
    await this.ensureListening();
    this.subscribers.add(sub);
    return () => this.subscribers.delete(sub);
  }

  private ensureListening(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('event hub closed'));
    this.starting ??= this.listen().catch((err) => {
      this.starting = null;
      throw err;
    });
    return this.starting;
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    client.on('notification', (msg) => {
      const seq = Number(msg.payload);
      if (Number.isSafeInteger(seq)) this.pending.add(seq);
      this.scheduleFlush();
    });
    client.on('error', (err) => this.logger.warn({ err }, 'event listener connection failed'));
    client.on('end', () => {
      if (this.listener !== client || this.closed) return;
      this.listener = null;
      this.starting = null;
      this.reconnect(1_000);
    });
    await client.connect();
    await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    if (this.lastSeq === 0) {
      const row = await Event.query(this.db).max('seq as max').first();
      this.lastSeq = Number((row as unknown as { max: number | null })?.max ?? 0);
    } else {
      await this.catchUp(); // events committed while we were not listening
    }
    this.listener = client;
    this.heartbeat ??= setInterval(() => this.subscribers.forEach((s) => s.heartbeat()), this.options.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
  }

  private reconnect(delayMs: number): void {
    if (this.closed || this.subscribers.size === 0) return;
    setTimeout(() => {
      this.ensureListening().catch((err) => {
        this.logger.warn({ err }, 'event listener reconnect failed');
        this.reconnect(Math.min(delayMs * 2, 30_000));
      });
    }, delayMs).unref();
  }

  private async catchUp(): Promise<void> {
    const missed = await Event.query(this.db).where('seq', '>', this.lastSeq).orderBy('seq').limit(10_000);
    for (const e of missed) this.pending.add(e.seq);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = (async () => {
      try {
        while (this.pending.size) {
          const seqs = [...this.pending].slice(0, 500);
          for (const s of seqs) this.pending.delete(s);
          const events = await Event.query(this.db).whereIn('seq', seqs).orderBy('seq');
          for (const event of events) {
            this.lastSeq = Math.max(this.lastSeq, event.seq);
            for (const sub of this.subscribers) sub.deliver(event);
          }
        }
      } catch (err) {
        this.logger.error({ err }, 'event fan-out failed');
      } finally {
        this.flushing = null;
        if (this.pending.size) this.scheduleFlush();
      }
    })();
  }

  /** End every stream and stop listening. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const sub of this.subscribers) sub.close('server shutting down');
    this.subscribers.clear();
    const client = this.listener;
    this.listener = null;
    await client?.end().catch(() => undefined);
  }
}
