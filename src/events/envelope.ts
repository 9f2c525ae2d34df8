/** The event envelope shared by webhooks, the events table and the SSE stream (SPEC §9). */
import { randomBytes } from 'node:crypto';
import type { EventType } from '../../workflows/vocabulary.js';

export interface EventEnvelope<D = Record<string, unknown>> {
  id: string;
  type: string;
  timestamp: string;
  data: D;
}

/** `evt_` + 24 random base32-ish characters. */
export function newEventId(): string {
  return `evt_${randomBytes(15).toString('base64url').replace(/[-_]/g, '0')}`;
}

export function envelope<D>(type: EventType, data: D, at: Date = new Date()): EventEnvelope<D> {
  return { id: newEventId(), type, timestamp: at.toISOString(), data };
}
