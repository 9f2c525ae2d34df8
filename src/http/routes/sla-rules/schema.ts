import { z } from 'zod';
import { TicketFields } from '../../../commands/tickets/inputs.js';
import { Timestamp } from '../common.js';
import { LevelsAndPausesRead, LevelsAndPausesWrite, Seconds } from '../sla/schema.js';
import { Priority } from '../tickets/schema.js';
import { TICKET_PRIORITIES } from '../../../../workflows/vocabulary.js';

const Targets = z
  .object({
    assign_target_seconds: Seconds.describe('time allowed from creation to the first assignment to a user'),
    resolve_target_seconds: Seconds.describe('time allowed from creation to resolution (paused time never counts)'),
  })
  .strict();

const list = <T extends z.ZodType>(item: T, what: string) =>
  z.array(item).min(1, 'omit the condition to match any').max(100).optional().describe(what);

export const SlaRuleConditionsSchema = z
  .object({
    groups: list(z.uuid(), 'the ticket is assigned to one of these groups'),
    categories: list(TicketFields.category, 'the ticket has one of these categories (case-insensitive)'),
    tags_any: list(TicketFields.tag, 'the ticket has at least one of these tags (case-insensitive)'),
    priorities: list(Priority, 'the ticket has one of these priorities'),
  })
  .strict()
  .describe('every condition given must hold; within one list any value matches; {} matches every ticket');

const TargetsByPriority = z
  .object(
    Object.fromEntries(TICKET_PRIORITIES.map((p) => [p, Targets.optional()])) as Record<
      (typeof TICKET_PRIORITIES)[number],
      z.ZodOptional<typeof Targets>
    >,
  )
  .strict()
  .refine((t) => Object.values(t).some((x) => x !== undefined), { message: 'give the targets of at least one priority' })
  .describe('targets per priority; a ticket whose priority has none here falls through to the next rule');

export const SlaRuleWriteSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    conditions: SlaRuleConditionsSchema.default({}),
    targets: TargetsByPriority,
    at_risk_percent: z.number().int().min(1).max(99).default(80).describe('share of the target at which ticket.sla_at_risk fires'),
    calendar_id: z.uuid().nullable().default(null).describe('business calendar whose hours count; null = 24×7'),
    ...LevelsAndPausesWrite,
  })
  .strict();

export const SlaRuleOrderSchema = z
  .object({ ids: z.array(z.uuid()).max(1000).describe('every SLA rule id exactly once, the first tried first') })
  .strict();

export const ApplyToOpenQuery = z.object({
  apply_to_open: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .describe(
      'also apply the new version to the open tickets running on this policy (elapsed time kept), by a batch: see GET /sla-repairs/{id}',
    ),
});

const RepairId = z
  .uuid()
  .optional()
  .describe('with apply_to_open=true: the batch applying this version to open tickets (GET /sla-repairs/{id})');

export const SlaRuleSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    position: z.number().int().describe('rules are tried in ascending position; the first match wins'),
    conditions: SlaRuleConditionsSchema,
    targets: z.object(Object.fromEntries(TICKET_PRIORITIES.map((p) => [p, Targets.optional()]))),
    at_risk_percent: z.number().int(),
    calendar_id: z.uuid().nullable(),
    ...LevelsAndPausesRead,
    version: z.number().int().describe('bumped by every edit; tickets record the version they run on'),
    created_at: Timestamp,
    updated_at: Timestamp,
    sla_repair_id: RepairId,
  })
  .openapi('SlaRule');

export const SlaRepairSchema = z
  .object({
    id: z.uuid(),
    policy_key: z.string().describe('`default:<priority>` or the SLA rule id'),
    policy_version: z.number().int(),
    status: z.enum(['running', 'completed']),
    total: z.number().int().nullable().describe('open tickets on an older version when the batch started (null until counted)'),
    done: z.number().int().describe('tickets retargeted'),
    skipped: z.number().int().describe('tickets that had moved on meanwhile (resolved, deleted, re-matched or already on the version)'),
    failed: z.number().int().describe('tickets whose workflow did not answer after 5 tries'),
    created_at: Timestamp,
    updated_at: Timestamp,
    finished_at: Timestamp.nullable(),
  })
  .openapi('SlaRepair');
