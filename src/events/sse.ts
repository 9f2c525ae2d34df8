/**
 * One Server-Sent Events connection: filters (ticket, types), visibility (what the caller may see,
 * as for REST), replay then live without gaps or repeats, and a bound on what may wait in memory —
 * a client that stops reading is disconnected rather than allowed to grow the buffer.
 */
import type { ServerResponse } from 'node:http';
import type { Principal } from '../auth/principal.js';
import type { Event } from '../models/index.js';
import { can } from '../policies/index.js';
import { canViewTicket } from '../policies/tickets.js';
import type { HubSubscriber } from './hub.js';

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
  private readonly queued: Event[] = [];
  private lastSeq = 0;
  private closed = false;
  onClose: (() => void) | null = null;

  constructor(
    private readonly res: ServerResponse,
    private readonly principal: Principal,
    private readonly groupIds: readonly string[],
    private readonly filter: StreamFilter,
    private readonly bufferLimitBytes: number,
  ) {
    res.on('close', () => this.finish());
  }

  /** Whether this caller, with these filters, gets this event. */
  accepts(event: Event): boolean {
    if (this.filter.ticketId && event.ticketId !== this.filter.ticketId) return false;
    if (this.filter.types?.length && !this.filter.types.includes(event.type)) return false;
    // events about webhook endpoints only to those who may manage them (a key needs the admin scope)
    if (event.type.startsWith('webhook.')) return can(this.principal, 'webhooks.manage');
    const ticket = (event.payload.data as { ticket?: TicketRef }).ticket;
    if (!ticket) return can(this.principal, 'tickets.readAll');
    return canViewTicket(
      this.principal,
      { assignedGroupId: ticket.assigned_group_id, assignedUserId: ticket.assigned_user_id, createdById: ticket.created_by_id },
      this.groupIds,
    );
  }

  /** Replayed events (before going live); the hub's live events wait until `goLive`. */
  replay(event: Event): void {
    this.send(event);
  }

  goLive(): void {
    this.live = true;
    for (const e of this.queued.splice(0)) this.send(e);
  }

  deliver(event: Event): void {
    if (!this.live) this.queued.push(event);
    else this.send(event);
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

  private send(event: Event): void {
    if (event.seq <= this.lastSeq || !this.accepts(event)) return; // replay and live overlap
    this.lastSeq = event.seq;
    this.write(frameOf(event));
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
    this.onClose?.();
  }
}
