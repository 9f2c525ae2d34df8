/**
 * The MCP tools' schemas. Inputs are the commands' own (src/commands/tickets/inputs.ts), picked
 * and described for a model; outputs are compact on purpose (the whole tools/list stays small).
 */
import { z } from 'zod';
import { SLA_STATES, TICKET_CHANNELS, TICKET_REF_PATTERN } from '../../workflows/vocabulary.js';
import { PriorityInput, StatusInput, TicketChangeShape, TicketCreateInput, TicketFields } from '../commands/tickets/inputs.js';

export const Priority = PriorityInput;
export const Status = StatusInput;

/** A fresh ticket reference schema (completions mark the schema they are given, so each server needs its own). */
export const ticketRefSchema = () =>
  z.string().regex(TICKET_REF_PATTERN, 'a ticket UUID or number like ASM-0001').describe('ticket UUID or number (ASM-0001)');
export const TicketRef = ticketRefSchema();
export const Page = z.number().int().min(1).default(1).describe('page to fetch (see next_page)');
export const RequestId = z.string().min(8).max(200).optional().describe('your id for this call (e.g. a UUID): retries with it apply once');
export const GroupId = TicketFields.assigned_group_id.describe('group id (list_groups)');
export const UserId = TicketFields.assigned_user_id.describe('user id (list_users)');
const NoteText = TicketFields.note_content.optional().describe('stored as an internal note, with the change or not at all');

/** create_ticket: the command's input, described. */
export const CreateInput = {
  title: TicketCreateInput.shape.title.describe('1–200 characters'),
  description: TicketCreateInput.shape.description.describe('plain text or simple HTML'),
  priority: TicketCreateInput.shape.priority.describe('default medium'),
  category: TicketCreateInput.shape.category.describe('free text, e.g. network'),
  tags: TicketCreateInput.shape.tags.describe('labels; trimmed, duplicates dropped'),
  assigned_group_id: TicketCreateInput.shape.assigned_group_id.describe('group id (list_groups)'),
  assigned_user_id: TicketCreateInput.shape.assigned_user_id.describe('user id (list_users); must be in the group'),
  request_id: RequestId,
};

/** The change fields, described; each tool picks its own. */
export const ChangeFields = {
  title: TicketChangeShape.title.describe('new title'),
  description: TicketChangeShape.description.describe('new description'),
  priority: TicketChangeShape.priority.describe('new priority'),
  status: TicketChangeShape.status.describe('new status (allowed_next in get_ticket)'),
  category: TicketChangeShape.category.describe('new category; null clears'),
  tags: TicketChangeShape.tags.describe('replaces all tags'),
  assigned_group_id: TicketChangeShape.assigned_group_id.describe('group id (list_groups); null clears'),
  assigned_user_id: TicketChangeShape.assigned_user_id.describe('user id (list_users); null clears'),
};
export { NoteText };

const SlaBrief = z.object({
  state: z.enum(SLA_STATES),
  due_at: z.string().nullable(),
  remaining_seconds: z.number().int(),
  at_risk: z.boolean(),
});

export const TicketBrief = z.object({
  id: z.string(),
  ticket_number: z.string(),
  title: z.string(),
  status: Status,
  priority: Priority,
  assigned_group_id: z.string().nullable(),
  assigned_user_id: z.string().nullable(),
  version: z.number().int(),
  sla: z.object({ assign: SlaBrief, resolve: SlaBrief }),
  updated_at: z.string().nullable(),
});

export const NoteItem = z.object({
  id: z.string(),
  author_id: z.string().nullable(),
  content: z.string(),
  is_internal: z.boolean(),
  created_at: z.string(),
  edited_at: z.string().nullable(),
});

export const TicketFull = TicketBrief.extend({
  description: z.string(),
  category: z.string().nullable(),
  tags: z.array(z.string()),
  created_by_id: z.string().nullable(),
  created_via: z.enum(TICKET_CHANNELS),
  created_at: z.string().nullable(),
  allowed_next: z.array(Status).describe('statuses it may move to now'),
  recent_notes: z.array(NoteItem).describe('newest first; list_ticket_notes for all'),
});

/** What a change returns, flat: enough to go on (get_ticket has the rest); ticket fields null while pending. */
export const ChangeResult = z.object({
  id: z.string(),
  ticket_number: z.string().nullable(),
  status: z.string().nullable(),
  priority: z.string().nullable(),
  assigned_group_id: z.string().nullable(),
  assigned_user_id: z.string().nullable(),
  version: z.number().int().nullable(),
  pending: z.boolean().describe('accepted, applied when a worker runs'),
  changed: z.boolean().optional(),
  note_id: z.string().nullable().optional(),
});

export const AuditItem = z.object({
  action: z.string(),
  field_changed: z.string().nullable(),
  old_value: z.unknown(),
  new_value: z.unknown(),
  actor_type: z.string(),
  actor_id: z.string().nullable(),
  created_at: z.string(),
});

/**
 * The fields `schema` lists, taken from a presenter's fuller object: a compact output names its
 * fields once, in its schema (and `value` must have each, with a fitting type).
 */
export function pickFields<S extends z.ZodObject<z.ZodRawShape>>(schema: S, value: z.infer<S>): z.infer<S> {
  return Object.fromEntries(Object.keys(schema.shape).map((k) => [k, (value as Record<string, unknown>)[k]])) as z.infer<S>;
}

/** A page of items with the way to continue. */
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), total: z.number().int(), page: z.number().int(), next_page: z.number().int().nullable() });

export function pageFields<T>(items: T[], total: number, page: number, pageSize: number) {
  return { items, total, page, next_page: page * pageSize < total ? page + 1 : null };
}
