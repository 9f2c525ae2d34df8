/**
 * The event envelope (webhook bodies, stream `data`, the events table) as zod schemas, one per
 * event type, registered as the OpenAPI document's `webhooks`: what a receiver gets is declared
 * from the same place as the REST contract, and the contract test validates stored events against it.
 */
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { ACTOR_TYPES, EVENT_TYPES, type EventType } from '../../../../workflows/vocabulary.js';
import { Timestamp } from '../common.js';
import { TicketSchema } from '../tickets/schema.js';

const Actor = z
  .object({
    type: z.enum(ACTOR_TYPES),
    user_id: z.uuid().nullable(),
    api_key_id: z.uuid().nullable(),
  })
  .openapi('EventActor');

const Changes = z
  .record(z.string(), z.object({ old: z.unknown(), new: z.unknown() }))
  .describe('per changed field its old and new value (empty when nothing but the event itself happened)')
  .openapi('EventChanges');

const EventNote = z.object({ id: z.uuid(), content: z.string(), is_internal: z.boolean() }).openapi('EventNote');

const EventAttachment = z
  .object({
    id: z.uuid(),
    filename: z.string(),
    content_type: z.string(),
    size_bytes: z.number().int(),
    sha256: z.string(),
    note_id: z.uuid().nullable(),
  })
  .openapi('EventAttachment');

const EventSla = z
  .object({
    metric: z.enum(['assign', 'resolve']),
    signal: z.enum(['at_risk', 'breached']),
    due_at: Timestamp,
    cycle: z.number().int(),
    target_seconds: z.number().int(),
    level: z
      .union([z.object({ percent: z.number().int() }).strict(), z.object({ minutes_before: z.number().int() }).strict()])
      .optional()
      .describe(
        'on ticket.sla_at_risk: the warning level reached (a percent of the target, or minutes before the deadline); each level fires once per metric and cycle',
      ),
  })
  .openapi('EventSla');

const EventTicketRef = z.object({ id: z.uuid(), ticket_number: z.string() }).openapi('EventTicketRef');

const ticketData = {
  ticket: TicketSchema,
  changes: Changes,
  actor: Actor,
  note: EventNote.optional().describe('the note, on events a note caused'),
};

/** The `data` of each event type. */
const DATA: Record<EventType, z.ZodObject<z.ZodRawShape>> = {
  'ticket.created': z.object(ticketData),
  'ticket.updated': z.object(ticketData),
  'ticket.assigned': z.object(ticketData),
  'ticket.status_changed': z.object(ticketData),
  'ticket.paused': z.object(ticketData),
  'ticket.resumed': z.object(ticketData),
  'ticket.resolved': z.object(ticketData),
  'ticket.reopened': z.object(ticketData),
  'ticket.note_added': z.object({ ...ticketData, note: EventNote }),
  'ticket.attachment_added': z.object({ ...ticketData, attachments: z.array(EventAttachment) }),
  'ticket.deleted': z.object(ticketData),
  'ticket.merged': z.object({
    ...ticketData,
    merge: z
      .object({ source: EventTicketRef, target: EventTicketRef })
      .describe('the ticket merged (this event’s ticket, now status merged) and the one it was merged into')
      .openapi('EventMerge'),
  }),
  'ticket.sla_at_risk': z.object({ ...ticketData, sla: EventSla }),
  'ticket.sla_breached': z.object({ ...ticketData, sla: EventSla }),
  'webhook.test': z.object({
    ticket: z.null(),
    changes: Changes,
    actor: Actor,
    webhook: z.object({ id: z.uuid() }), // never the URL: it may carry a token
    message: z.string(),
  }),
  'webhook.disabled': z.object({
    ticket: z.null(),
    changes: Changes,
    actor: Actor,
    webhook: z.object({ id: z.uuid(), disabled_reason: z.string().nullable() }),
  }),
};

const pascal = (type: string) =>
  type
    .split(/[._]/)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');

/** The envelope schema of one event type: `{id, type, timestamp, data}`. */
export const eventSchemas = Object.fromEntries(
  EVENT_TYPES.map((type) => [
    type,
    z
      .object({
        id: z.string().describe('evt_…: unique, also the webhook-id header (de-duplicate by it)'),
        type: z.literal(type),
        timestamp: Timestamp,
        data: DATA[type],
      })
      .openapi(`${pascal(type)}Event`),
  ]),
) as unknown as Record<EventType, z.ZodObject<z.ZodRawShape>>;

const DeliveryHeaders = z.object({
  'webhook-id': z.string().describe('the event id: the same on every retry and redelivery'),
  'webhook-timestamp': z.string().describe('Unix seconds of this attempt'),
  'webhook-signature': z
    .string()
    .describe('`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`; two, space-separated, during a secret rotation'),
  'x-servicemeow-signature': z.string().describe('hex HMAC-SHA256 of the body alone, with the same key'),
});

/** One `webhooks` entry per event type: the POST a subscribed endpoint receives. */
export function registerEventWebhooks(registry: OpenAPIRegistry): void {
  for (const type of EVENT_TYPES) {
    registry.registerWebhook({
      method: 'post',
      path: type,
      operationId: `on${pascal(type)}`,
      summary: `The ${type} event, delivered to endpoints subscribed to it (or to "*"); the same envelope is the stream's data`,
      tags: ['events'],
      security: [],
      request: {
        headers: DeliveryHeaders,
        body: { required: true, content: { 'application/json': { schema: eventSchemas[type] } } },
      },
      responses: {
        200: { description: 'Any 2xx within 15 s: delivered' },
        410: { description: 'Gone: the endpoint is disabled for good' },
        429: { description: 'Slow down: retried after Retry-After (at most 24 h)' },
        503: { description: 'Unavailable: retried on the schedule, or after Retry-After' },
      },
    });
  }
}
