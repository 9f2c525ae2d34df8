/**
 * The input of each ticket command, once: REST uses these schemas as request bodies (adding
 * OpenAPI metadata where it documents them) and MCP picks their fields and describes them for a
 * model. So both transports trim and de-duplicate tags, cap lengths and refuse unknown fields alike.
 * The commands map them to the workflow's Update payloads (workflows/definitions.ts).
 */
import { z } from 'zod';
import { TICKET_PRIORITIES, TICKET_REF_PATTERN, TICKET_STATUSES } from '../../../workflows/vocabulary.js';
import { changesSomething, NOTHING_TO_CHANGE } from '../inputs.js';
import { TICKET_SORTS } from './list.js';

export const PriorityInput = z.enum(TICKET_PRIORITIES);
export const StatusInput = z.enum(TICKET_STATUSES);

/** One field each, shared by create, change and list. */
export const TicketFields = {
  title: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  description: z.string().max(50_000),
  priority: PriorityInput,
  status: StatusInput,
  category: z.string().trim().min(1).max(100),
  tag: z.string().trim().min(1).max(50),
  tags: z
    .array(z.string().trim().min(1).max(50))
    .max(20)
    .transform((tags) => [...new Set(tags)]),
  assigned_group_id: z.uuid(),
  assigned_user_id: z.uuid(),
  note_content: z.string().min(1).max(50_000),
  search: z.string().trim().min(1).max(200),
  sort_by: z.enum(TICKET_SORTS),
  sort_order: z.enum(['asc', 'desc']),
};

export const TicketCreateInput = z.strictObject({
  title: TicketFields.title,
  description: TicketFields.description.default(''),
  priority: TicketFields.priority.default('medium'),
  category: TicketFields.category.nullable().default(null),
  tags: TicketFields.tags.default([]),
  assigned_group_id: TicketFields.assigned_group_id.nullable().default(null),
  assigned_user_id: TicketFields.assigned_user_id.nullable().default(null),
});
export type TicketCreateRequest = z.output<typeof TicketCreateInput>;

/** The fields a change may set: absent = leave as is, null = clear. */
export const TicketChangeShape = {
  title: TicketFields.title.optional(),
  description: TicketFields.description.optional(),
  priority: TicketFields.priority.optional(),
  status: TicketFields.status.optional(),
  category: TicketFields.category.nullable().optional(),
  tags: TicketFields.tags.optional(),
  assigned_group_id: TicketFields.assigned_group_id.nullable().optional(),
  assigned_user_id: TicketFields.assigned_user_id.nullable().optional(),
};

export { NOTHING_TO_CHANGE };

export const TicketChangeInput = z.strictObject(TicketChangeShape).refine(changesSomething, { message: NOTHING_TO_CHANGE });
export type TicketChange = z.output<typeof TicketChangeInput>;

export const NoteAddInput = z.strictObject({ content: TicketFields.note_content, is_internal: z.boolean().default(false) });
export type NoteAdd = z.output<typeof NoteAddInput>;
export const NoteEditInput = z.strictObject({ content: TicketFields.note_content });
export type NoteEdit = z.output<typeof NoteEditInput>;

/** Merge a ticket into `target` (its UUID or number), with an optional internal note on the merged ticket. */
export const TicketMergeInput = z.strictObject({
  target: z.string().regex(TICKET_REF_PATTERN, 'must be a ticket UUID or number like ASM-0001'),
  note: TicketFields.note_content.optional(),
});
export type TicketMerge = z.output<typeof TicketMergeInput>;

/** A date (`2026-11-01`, the whole day in UTC) or an instant (`2026-11-01T09:00:00Z`). */
export const DateOrInstant = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);

const DAY_MS = 86_400_000;
/** `DateOrInstant` as an instant: a date is its start (`from`) or the end of that day (`to`). */
export function instantOf(v: string | undefined, end: 'from' | 'to'): Date | undefined {
  if (v === undefined) return undefined;
  return v.length === 10 ? new Date(Date.parse(`${v}T00:00:00Z`) + (end === 'to' ? DAY_MS : 0)) : new Date(v);
}
