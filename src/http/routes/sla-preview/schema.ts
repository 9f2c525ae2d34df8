import { z } from 'zod';
import { Timestamp } from '../common.js';
import { Priority, SlaPolicyRefSchema } from '../tickets/schema.js';
import { LevelsAndPausesRead, LevelsAndPausesWrite, PausableStatus } from '../sla/schema.js';
import { MAX_PREVIEW_PAUSES } from '../../../commands/sla/preview.js';

// the same bounds as PUT /sla-policies/{priority}
const Seconds = z
  .number()
  .int()
  .min(1)
  .max(366 * 24 * 3600);
const Instant = z.iso.datetime({ offset: true });

const StoredPolicy = z.strictObject({ priority: Priority.describe('the stored policy of this priority') });
const StoredRule = z.strictObject({
  rule_id: z.uuid().describe('a stored SLA rule'),
  priority: Priority.describe('whose targets of the rule apply'),
});
const DraftPolicy = z.strictObject({
  assign_target_seconds: Seconds.describe('time allowed from creation to the first assignment to a user'),
  resolve_target_seconds: Seconds.describe('time allowed from creation to resolution (paused time never counts)'),
  at_risk_percent: z.number().int().min(1).max(99).default(80).describe('share of the target at which the at-risk warning fires'),
  calendar_id: z.uuid().nullable().default(null).describe('business calendar whose hours count; null = 24×7'),
  ...LevelsAndPausesWrite,
});
const PolicyInput = z
  .union([StoredPolicy, StoredRule, DraftPolicy])
  .describe(
    'a stored default policy ({"priority": "high"}), a stored SLA rule ({"rule_id", "priority"}) or a draft (targets, at-risk percent, calendar, warning levels, pause statuses)',
  );

export const SlaPreviewRequestSchema = z.strictObject({
  policy: PolicyInput,
  start: Instant.describe('when the ticket would be created (RFC 3339, from 1970 to 2999)'),
  pauses: z
    .array(
      z.strictObject({
        from: Instant,
        to: Instant,
        status: PausableStatus.default('paused').describe(
          'the status the ticket waits in: each clock stops only if the policy’s pause statuses name it (paused stops both)',
        ),
      }),
    )
    .max(MAX_PREVIEW_PAUSES)
    .default([])
    .describe('stretches during which the ticket is paused: each ends after it starts, none before start, none overlapping'),
});

export const SlaWhatIfRequestSchema = z.strictObject({
  policy: PolicyInput,
  days: z.number().int().min(1).max(90).describe('replay the tickets created in the last this many days'),
  priority: Priority.optional().describe('only tickets of this priority'),
});

const PolicyTerms = z.object({
  assign_target_seconds: z.number().int(),
  resolve_target_seconds: z.number().int(),
  at_risk_percent: z.number().int(),
  calendar: z.object({ id: z.string(), name: z.string(), timezone: z.string() }).nullable(),
  ...LevelsAndPausesRead,
  policy: SlaPolicyRefSchema.describe('the stored policy or rule and its version; null for a draft'),
});

const MetricPreview = z.object({
  target_seconds: z.number().int(),
  due_at: Timestamp.nullable().describe('the deadline; null when the calendar cannot reach it within ten years'),
  at_risk_at: Timestamp.nullable(),
  signals: z
    .array(
      z.object({
        signal: z.string(),
        at: Timestamp,
        level: z.string().optional().describe('the warning level (`75%`, `10 min before`) under a policy with warning levels'),
      }),
    )
    .describe('every signal in the order it would fire'),
  business_seconds: z.number().int().describe('business seconds counted at the deadline (the target)'),
  wall_seconds: z.number().int().nullable().describe('wall-clock seconds from start to the deadline'),
});

export const SlaPreviewSchema = z
  .object({
    policy: PolicyTerms,
    start: Timestamp,
    assign: MetricPreview,
    resolve: MetricPreview,
    timeline: z.array(
      z.object({
        at: Timestamp,
        metric: z.enum(['assign', 'resolve']),
        kind: z.string(),
        elapsed_seconds: z.number().int(),
        target_seconds: z.number().int(),
        detail: z.string().optional(),
      }),
    ),
  })
  .openapi('SlaPreview');

const Tally = z.object({
  breached: z.number().int().describe('tickets with any metric breached'),
  assign_breached: z.number().int(),
  resolve_breached: z.number().int(),
  assign_breaches: z.number().int().describe('breaches counted per cycle'),
  resolve_breaches: z.number().int().describe('breaches counted per cycle (a reopen starts a new one)'),
});
const Outcome = z.object({ assign: z.boolean(), resolve: z.boolean() });

export const SlaWhatIfSchema = z
  .object({
    policy: PolicyTerms,
    days: z.number().int(),
    priority: Priority.nullable(),
    window: z.object({ from: Timestamp, to: Timestamp }),
    tickets: z.number().int().describe('tickets replayed'),
    ticket_limit: z.number().int().describe('at most this many (the newest) are replayed'),
    truncated: z.boolean().describe('the window held more tickets than ticket_limit'),
    actual: Tally.describe('what really happened'),
    what_if: Tally.describe('what would have happened under the policy'),
    changed: z.object({ newly_breached: z.number().int(), no_longer_breached: z.number().int() }),
    sample: z
      .array(z.object({ ticket_number: z.string(), priority: Priority, actual: Outcome, what_if: Outcome }))
      .describe('tickets whose outcome changes, newest first'),
    sample_limit: z.number().int(),
  })
  .openapi('SlaWhatIf');
