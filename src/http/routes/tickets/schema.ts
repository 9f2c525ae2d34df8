import { z } from 'zod';
import { csvEnum, Timestamp } from '../common.js';
import { CursorQuery, PaginationQuery } from '../../pagination.js';
import {
  NoteAddInput,
  NoteEditInput,
  TicketChangeInput,
  TicketCreateInput,
  TicketFields,
  TicketMergeInput,
} from '../../../commands/tickets/inputs.js';
import {
  ACTOR_TYPES,
  SLA_STATES,
  TICKET_CHANNELS,
  TICKET_PRIORITIES,
  TICKET_REF_PATTERN,
  TICKET_STATUSES,
} from '../../../../workflows/vocabulary.js';

export const Priority = z.enum(TICKET_PRIORITIES);
const Status = z.enum(TICKET_STATUSES);

/** The bodies are the commands' own input schemas (src/commands/tickets/inputs.ts). */
export const TicketCreateSchema = TicketCreateInput;
export type TicketCreate = z.infer<typeof TicketCreateSchema>;

export const TicketListQuerySchema = PaginationQuery.merge(CursorQuery).extend({
  status: csvEnum(TICKET_STATUSES).optional().openapi({ description: 'one or more, comma-separated' }),
  priority: csvEnum(TICKET_PRIORITIES).optional().openapi({ description: 'one or more, comma-separated' }),
  assigned_group_id: z.uuid().optional(),
  assigned_user_id: z.uuid().optional(),
  created_by_id: z.uuid().optional(),
  category: TicketFields.category.optional(),
  tag: TicketFields.tag.optional(),
  sla_breached: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  search: TicketFields.search
    .optional()
    .openapi({ description: 'full text over title and description (web search syntax), or an exact ASM- number' }),
  sort_by: TicketFields.sort_by.optional(),
  sort_order: TicketFields.sort_order.optional(),
});

export const TicketPatchSchema = TicketChangeInput;

export const TicketMergeSchema = TicketMergeInput;

export const IfMatchHeaders = z.object({
  'if-match': z.string().optional().openapi({ description: 'The ETag you read ("3"): a stale one gets 412' }),
});

export const NoteCreateSchema = NoteAddInput;
export const NoteUpdateSchema = NoteEditInput;

/** On lists of a merge target: the merged ticket a note or file comes from (null: the ticket's own). */
export const FromTicketSchema = z
  .object({ id: z.uuid(), ticket_number: z.string() })
  .nullable()
  .describe('the ticket merged into this one that it comes from; null for the ticket’s own')
  .openapi('FromTicket');

export const NoteSchema = z
  .object({
    id: z.uuid(),
    ticket_id: z.uuid(),
    author_id: z.uuid().nullable(),
    actor_type: z.enum(ACTOR_TYPES),
    content: z.string(),
    is_internal: z.boolean(),
    created_at: Timestamp,
    updated_at: Timestamp,
    edited_at: Timestamp.nullable(),
    from_ticket: FromTicketSchema,
  })
  .openapi('Note');

export const AuditEntrySchema = z
  .object({
    id: z.uuid(),
    ticket_id: z.uuid().nullable(),
    ticket_number: z.string().nullable().optional(),
    ticket_version: z.number().int().nullable(),
    actor_type: z.enum(ACTOR_TYPES),
    actor_id: z.uuid().nullable(),
    api_key_id: z.uuid().nullable(),
    action: z.string(),
    field_changed: z.string().nullable(),
    old_value: z.unknown(),
    new_value: z.unknown(),
    metadata: z.record(z.string(), z.unknown()),
    created_at: Timestamp,
  })
  .openapi('AuditEntry');

export const TicketRefParams = z.object({
  id: z
    .string()
    .regex(TICKET_REF_PATTERN, 'must be a ticket UUID or number like ASM-0001')
    .openapi({ description: 'Ticket UUID or number (ASM-0001)' }),
});

export const IdempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .optional()
    .openapi({ description: 'Retrying with the same key returns the original result instead of creating again.' }),
});

export const SlaMetricSchema = z.object({
  target_seconds: z.number().int().describe('the target in business seconds'),
  elapsed_seconds: z.number().int().describe('business seconds counted so far (paused time never counts)'),
  remaining_seconds: z.number().int(),
  due_at: Timestamp.nullable().describe('the deadline while the clock runs; null while paused or met'),
  at_risk_at: Timestamp.nullable(),
  state: z.enum(SLA_STATES),
  at_risk: z.boolean(),
  breached_at: Timestamp.nullable(),
  met_at: Timestamp.nullable(),
  cycle: z.number().int().describe('1, then +1 for each reopen (signals fire once per cycle)'),
});

export const MergeLinkSchema = z.object({ id: z.uuid(), ticket_number: z.string(), merged_at: Timestamp }).openapi('TicketMergeLink');

/** Which SLA policy a ticket's clocks run on (issue 21): null for clocks started before policies were recorded. */
export const SlaPolicyRefSchema = z
  .object({
    rule_id: z.uuid().nullable().describe('the SLA rule; null: the default policy of the priority (sla_policies)'),
    name: z.string(),
    version: z.number().int(),
  })
  .nullable()
  .openapi('SlaPolicyRef');

export const TicketSchema = z
  .object({
    id: z.uuid(),
    ticket_number: z.string(),
    title: z.string(),
    description: z.string(),
    priority: Priority,
    status: Status,
    category: z.string().nullable(),
    tags: z.array(z.string()),
    assigned_group_id: z.uuid().nullable(),
    assigned_user_id: z.uuid().nullable(),
    created_by_id: z.uuid().nullable(),
    created_via: z.enum(TICKET_CHANNELS),
    version: z.number().int(),
    first_assigned_at: Timestamp.nullable(),
    resolved_at: Timestamp.nullable(),
    paused_at: Timestamp.nullable(),
    total_paused_seconds: z.number().int(),
    sla_breached: z.boolean(),
    sla: z.object({ assign: SlaMetricSchema, resolve: SlaMetricSchema, policy: SlaPolicyRefSchema }),
    merged_into: MergeLinkSchema.nullable().describe('status merged: the ticket this one was merged into'),
    merged_from: z
      .array(MergeLinkSchema)
      .describe('tickets merged into this one, oldest first: their notes and attachments are listed with this ticket’s'),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('Ticket');

export const TicketAcceptedSchema = z.object({ id: z.uuid(), status: z.literal('pending'), message: z.string() }).openapi('Accepted');

export const NoteParams = z.object({ id: TicketRefParams.shape.id, note_id: z.uuid() });
