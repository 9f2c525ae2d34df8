/** Output schemas of the MCP tools: compact on purpose (the whole tools/list stays small). */
import { z } from 'zod';
import { SLA_STATES, TICKET_CHANNELS, TICKET_PRIORITIES, TICKET_REF_PATTERN, TICKET_STATUSES } from '../../workflows/vocabulary.js';

export const TicketRef = z
  .string()
  .regex(TICKET_REF_PATTERN, 'a ticket UUID or number like ASM-0001')
  .describe('ticket UUID or number (ASM-0001)');
export const Priority = z.enum(TICKET_PRIORITIES);
export const Status = z.enum(TICKET_STATUSES);
export const Page = z.number().int().min(1).default(1).describe('page to fetch (see next_page)');

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

export const TicketFull = TicketBrief.extend({
  description: z.string(),
  category: z.string().nullable(),
  tags: z.array(z.string()),
  created_by_id: z.string().nullable(),
  created_via: z.enum(TICKET_CHANNELS),
  created_at: z.string().nullable(),
});

/** A page of items with the way to continue. */
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), total: z.number().int(), page: z.number().int(), next_page: z.number().int().nullable() });

export function pageFields<T>(items: T[], total: number, page: number, pageSize: number) {
  return { items, total, page, next_page: page * pageSize < total ? page + 1 : null };
}
