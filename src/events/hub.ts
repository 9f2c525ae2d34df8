/**
 * The live event fan-out of one API instance. One dedicated PostgreSQL connection LISTENs on the
 * events channel; a notification only says "something committed": the hub then reads, in one query
 * for all its subscribers, every event after its cursor that no open transaction can precede
 * (events/store.ts), moves the cursor and offers each to every subscriber, which applies its own
 * filters and visibility. Events that committed behind a still-open transaction are re-read shortly
 * after, without waiting for another notification. Works across any number of instances: every
 * instance hears every commit, whichever process made it. After the listening connection drops,
 * the hub reconnects and catches up from its cursor.
 *
 * The same connection LISTENs for principal changes (events/principals.ts): the streams of a
 * deactivated user or a revoked key are held at once, re-checked, and ended; every stream is also
 * re-checked on an interval.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import type { Db } from '../db/index.js';
import type { Event } from '../models/index.js';
import { parsePrincipalChange, PRINCIPALS_CHANNEL, recheckCredentials, type StreamCredential } from './principals.js';
import { currentHorizon, EVENTS_CHANNEL, positionOf, readSettled, type StreamPosition } from './store.js';

export interface HubSubscriber {
  /** called for every committed event, in stream order, once */
  deliver(event: Event): void;
  /** the same for a batch read at once (in stream order); when present, used instead of `deliver` */
  deliverAll?(events: readonly Event[]): void;
  /** comment line to keep proxies and clients from timing out */
  heartbeat(): void;
  close(reason: string): void;
  /** the credential the stream was opened with */
  readonly credential: StreamCredential;
  /** keep deliveries back until `release` (its credential is being re-checked) */
  hold(): void;
  /** the credential holds: deliver what was held, with the current group memberships */
  release(groupIds: string[]): void;
  /** the credential no longer holds: a final notice, then the end */
  revoke(code: string, message: string): void;
}

export interface HubOptions {
  heartbeatMs?: number;
  /** how often every open stream's credential is re-checked */
  revalidateMs?: number;
}

/** Told, after each batch is handed to every subscriber, how long that took (seconds). */
export type FanOutObserver = (seconds: number) => void;

const BATCH = 500;
/** re-read delays while committed events wait behind an open transaction */
const HELD_RETRY_MIN_MS = 10;
const HELD_RETRY_MAX_MS = 500;

export class EventHub {
  private readonly subscribers = new Set<HubSubscriber>();
  private listener: pg.Client | null = null;
  private starting: Promise<void> | null = null;
  private cursor: StreamPosition | null = null;
  private dirty = false;
  private flushing: Promise<void> | null = null;
  private heldRetry: NodeJS.Timeout | null = null;
  private heldDelayMs = HELD_RETRY_MIN_MS;
  private heartbeat: NodeJS.Timeout | null = null;
  private revalidator: NodeJS.Timeout | null = null;
  private closed = false;
  /** subscribers held by an announced change, with the number of that announcement */
  private readonly held = new Map<HubSubscriber, number>();
  private announcements = 0;
  /** the metrics' histogram of fan-out times (metrics.ts) */
  onFanOut: FanOutObserver | null = null;

  constructor(
    private readonly db: Db,
    private readonly databaseUrl: string,
    private readonly logger: Logger,
    private readonly options: HubOptions = {},
  ) {}

  get size(): number {
    return this.subscribers.size;
  }

  /**
   * Register a subscriber (starting the listener on first use); returns its unsubscribe. The
   * subscriber gets every event after the hub's cursor at this moment.
   */
  async subscribe(sub: HubSubscriber): Promise<() => void> {
    await this.ensureListening();
    this.subscribers.add(sub);
    return () => {
      this.subscribers.delete(sub);
      this.held.delete(sub);
    };
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
      if (msg.channel === PRINCIPALS_CHANNEL) this.onPrincipalChange(msg.payload);
      else this.requestFlush();
    });
    client.on('error', (err) => this.logger.warn({ err }, 'event listener connection failed'));
    client.on('end', () => {
      if (this.listener !== client || this.closed) return;
      this.listener = null;
      this.starting = null;
      this.reconnect(1_000);
    });
    await client.connect();
    await client.query(`LISTEN ${EVENTS_CHANNEL}; LISTEN ${PRINCIPALS_CHANNEL}`);
    // Listening first, then the horizon: whatever commits from here on is heard or read.
    this.cursor ??= await currentHorizon(this.db);
    this.listener = client;
    this.requestFlush(); // after a reconnect: what committed while we were not listening
    this.heartbeat ??= setInterval(() => this.subscribers.forEach((s) => s.heartbeat()), this.options.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
    this.revalidator ??= setInterval(() => void this.recheck([...this.subscribers]), this.options.revalidateMs ?? 15_000);
    this.revalidator.unref();
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

  /** Read (again) after the cursor: notifications arriving meanwhile coalesce into one more read. */
  private requestFlush(): void {
    this.dirty = true;
    this.flushing ??= this.flush().finally(() => {
      this.flushing = null;
      if (this.dirty && !this.closed) this.requestFlush();
    });
  }

  private async flush(): Promise<void> {
    try {
      while (this.dirty && !this.closed && this.cursor) {
        this.dirty = false;
        const { events, held, more } = await readSettled(this.db, this.cursor, BATCH);
        if (events.length) {
          this.cursor = positionOf(events.at(-1)!);
          // one call (one socket write) per subscriber for the whole batch: a burst costs a write per stream, not per event
          const started = performance.now();
          for (const sub of this.subscribers) {
            if (sub.deliverAll) sub.deliverAll(events);
            else for (const event of events) sub.deliver(event);
          }
          // observed once the writes deferred to the end of this tick (res.write's uncork) have run too
          const observe = this.onFanOut;
          if (observe) setImmediate(() => observe((performance.now() - started) / 1000));
        }
        if (more && events.length) this.dirty = true;
        if (held) this.retryHeld();
        else this.heldDelayMs = HELD_RETRY_MIN_MS;
      }
    } catch (err) {
      this.logger.error({ err }, 'event fan-out failed');
      this.retryHeld(); // the events are still there: read them once the database answers
    }
  }

  /**
   * Committed events wait behind an open transaction (whose commit or rollback may announce
   * nothing): read again soon, backing off while it stays open.
   */
  private retryHeld(): void {
    if (this.heldRetry || this.closed) return;
    this.heldRetry = setTimeout(() => {
      this.heldRetry = null;
      this.requestFlush();
    }, this.heldDelayMs);
    this.heldRetry.unref();
    this.heldDelayMs = Math.min(this.heldDelayMs * 2, HELD_RETRY_MAX_MS);
  }

  private onPrincipalChange(payload: string | undefined): void {
    const change = parsePrincipalChange(payload);
    if (!change) return;
    const affected = [...this.subscribers].filter(({ credential: { principal } }) =>
      'userId' in change ? principal.user.id === change.userId : principal.apiKeyId === change.apiKeyId,
    );
    if (!affected.length) return;
    // Nothing more reaches them until a re-check that read the change says they may still see it.
    const announcement = ++this.announcements;
    for (const sub of affected) {
      sub.hold();
      this.held.set(sub, announcement);
    }
    void this.recheck(affected, announcement);
  }

  /**
   * Re-check the subscribers' credentials in one round of queries; end those that no longer hold.
   * Only the re-check started by the latest announcement releases a held subscriber (an interval
   * re-check already under way may have read the state from before the change).
   */
  private async recheck(subs: HubSubscriber[], announcement: number | null = null): Promise<void> {
    if (!subs.length || this.closed) return;
    try {
      const verdicts = await recheckCredentials(
        this.db,
        subs.map((s) => s.credential),
      );
      subs.forEach((sub, i) => {
        const verdict = verdicts[i]!;
        if (!verdict.ok) {
          this.held.delete(sub);
          sub.revoke(verdict.code, verdict.message);
        } else if (!this.held.has(sub)) {
          sub.release(verdict.groupIds);
        } else if (this.held.get(sub) === announcement) {
          this.held.delete(sub);
          sub.release(verdict.groupIds);
        }
      });
    } catch (err) {
      this.logger.warn({ err }, 're-checking stream credentials failed');
      // A change was announced but cannot be checked: fail closed, the client reconnects.
      for (const sub of subs) {
        if (announcement === null || this.held.get(sub) !== announcement) continue;
        this.held.delete(sub);
        sub.revoke('stream_unavailable', 'The event stream is unavailable; retry shortly.');
      }
    }
  }

  /** End every stream and stop listening. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.revalidator) clearInterval(this.revalidator);
    if (this.heldRetry) clearTimeout(this.heldRetry);
    for (const sub of this.subscribers) sub.close('server shutting down');
    this.subscribers.clear();
    const client = this.listener;
    this.listener = null;
    await client?.end().catch(() => undefined); // shutting down: a connection that fails to close is gone anyway
  }
}
