/**
 * One Server-Sent Events connection: filters (ticket, types), visibility (what the caller may see,
 * as for REST, re-checked while it is open), replay then live without gaps or repeats, and a bound
 * on what may wait in memory — a client that stops reading is disconnected rather than allowed to
 * grow the buffer.
 */
import type { ServerResponse } from 'node:http';
import type { Event } from '../models/index.js';
import { can } from '../policies/index.js';
import { canViewTicket } from '../policies/tickets.js';
import type { HubSubscriber } from './hub.js';
import type { StreamCredential } from './principals.js';
import { isAfter, positionOf, type StreamPosition } from './store.js';

/** One event's SSE frame, serialised once however many subscribers it goes to. */
const frames = new WeakMap<Event, string>();
function frameOf(event: Event): string {
  let frame = frames.get(event);
  if (frame === undefined) {
    frame = `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event.payload)}\n\n`;
    frames.set(event, frame);
  }
  return frame;
}

/** One event's stream position, parsed once however many subscribers compare it. */
const positions = new WeakMap<Event, StreamPosition>();
function positionOnce(event: Event): StreamPosition {
  let position = positions.get(event);
  if (position === undefined) {
    position = positionOf(event);
    positions.set(event, position);
  }
  return position;
}

export interface StreamFilter {
  ticketId?: string;
  types?: string[];
}

interface TicketRef {
  assigned_group_id: string | null;
  assigned_user_id: string | null;
  created_by_id: string | null;
}

export class SseStream implements HubSubscriber {
  private live = false;
  private holding = false;
  /** events that arrived before going live or while held: sent, in stream order, when both end */
  private readonly queued: Event[] = [];
  private last: StreamPosition | null = null;
  private closed = false;
  onClose: (() => void) | null = null;

  constructor(
    private readonly res: ServerResponse,
    readonly credential: StreamCredential,
    private groupIds: readonly string[],
    private readonly filter: StreamFilter,
    private readonly bufferLimitBytes: number,
  ) {
    res.on('close', () => this.finish());
  }

  /** the connection closed (or was dropped): nothing more is written */
  get ended(): boolean {
    return this.closed;
  }

  /** Whether this caller, with these filters, gets this event. */
  accepts(event: Event): boolean {
    if (this.filter.ticketId && event.ticketId !== this.filter.ticketId) return false;
    if (this.filter.types?.length && !this.filter.types.includes(event.type)) return false;
    const principal = this.credential.principal;
    // events about webhook endpoints only to those who may manage them (a key needs the admin scope)
    if (event.type.startsWith('webhook.')) return can(principal, 'webhooks.manage');
    const ticket = (event.payload.data as { ticket?: TicketRef }).ticket;
    if (!ticket) return can(principal, 'tickets.readAll');
    return canViewTicket(
      principal,
      { assignedGroupId: ticket.assigned_group_id, assignedUserId: ticket.assigned_user_id, createdById: ticket.created_by_id },
      this.groupIds,
    );
  }

  /** Replayed events (before going live); the hub's live events wait until `goLive`. */
  replay(event: Event): void {
    if (this.holding) this.queued.push(event);
    else this.send(event);
  }

  goLive(): void {
    this.live = true;
    this.drain();
  }

  deliver(event: Event): void {
    this.deliverAll([event]);
  }

  /** A batch in stream order, written to the socket at once: one write per stream however many events. */
  deliverAll(events: readonly Event[]): void {
    if (!this.live || this.holding) this.queued.push(...events);
    else this.sendAll(events);
  }

  hold(): void {
    this.holding = true;
  }

  release(groupIds: string[]): void {
    this.groupIds = groupIds;
    this.holding = false;
    this.drain();
  }

  /** The credential no longer holds: nothing held is sent; a final `error` notice, then the end. */
  revoke(code: string, message: string): void {
    this.queued.length = 0;
    this.notice('error', { code, message });
    this.res.end();
    this.finish();
  }

  heartbeat(): void {
    this.write(': keep-alive\n\n');
  }

  /** A named notice (resync, error) that is not an event of the store. */
  notice(type: string, data: Record<string, unknown>): void {
    this.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  close(reason: string): void {
    this.notice('close', { reason });
    this.res.end();
  }

  private drain(): void {
    if (!this.live || this.holding || !this.queued.length) return;
    const events = this.queued.splice(0).sort((a, b) => (isAfter(positionOnce(a), positionOnce(b)) ? 1 : -1));
    this.sendAll(events);
  }

  private send(event: Event): void {
    this.sendAll([event]);
  }

  /** Replay and live overlap, and both come in stream order: send only what is past the last sent. */
  private sendAll(events: readonly Event[]): void {
    let chunk = '';
    for (const event of events) {
      const position = positionOnce(event);
      if ((this.last && !isAfter(position, this.last)) || !this.accepts(event)) continue;
      this.last = position;
      chunk += frameOf(event);
    }
    if (chunk) this.write(chunk);
  }

  private write(chunk: string): void {
    if (this.closed) return;
    if (this.res.writableLength > this.bufferLimitBytes) {
      // The client is not reading: drop it (it can resume with Last-Event-ID) instead of buffering.
      this.res.destroy();
      this.finish();
      return;
    }
    this.res.write(chunk);
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.queued.length = 0;
    this.onClose?.();
  }
}
