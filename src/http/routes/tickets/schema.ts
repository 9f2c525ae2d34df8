import { z } from 'zod';

const Priority = z.enum(['critical', 'high', 'medium', 'low']);
const Status = z.enum(['open', 'under_investigation', 'paused', 'resolved']);

export const TicketCreateSchema = z
  .object({
    title: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
    description: z.string().max(50_000).default(''),
    priority: Priority.default('medium'),
    category: z.string().trim().min(1).max(100).nullable().default(null),
    tags: z
      .array(z.string().trim().min(1).max(50))
      .max(20)
      .default([])
      .transform((tags) => [...new Set(tags)]),
    assigned_group_id: z.uuid().nullable().default(null),
    assigned_user_id: z.uuid().nullable().default(null),
  })
  .strict()
  .openapi('TicketCreate');
export type TicketCreate = z.infer<typeof TicketCreateSchema>;

export const TicketRefParams = z.object({
  id: z
    .string()
    .regex(/^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[Aa][Ss][Mm]-\d{4,})$/, 'must be a ticket UUID or number like ASM-0001')
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

const SlaMetric = z.object({
  target_seconds: z.number().int().nullable(),
  elapsed_seconds: z.number().int(),
  remaining_seconds: z.number().int().nullable(),
  due_at: z.string().nullable(),
  state: z.enum(['running', 'paused', 'met', 'breached']),
  at_risk: z.boolean(),
  breached_at: z.string().nullable(),
});

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
    created_via: z.enum(['rest', 'mcp']),
    version: z.number().int(),
    first_assigned_at: z.string().nullable(),
    resolved_at: z.string().nullable(),
    paused_at: z.string().nullable(),
    total_paused_seconds: z.number().int(),
    sla_breached: z.boolean(),
    sla: z.object({ assign: SlaMetric, resolve: SlaMetric }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Ticket');

export const TicketAcceptedSchema = z
  .object({ id: z.uuid(), status: z.literal('pending'), message: z.string() })
  .openapi('TicketAccepted');
