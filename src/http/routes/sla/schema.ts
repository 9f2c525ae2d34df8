import { z } from 'zod';
import { Timestamp } from '../common.js';
import { Priority, SlaMetricSchema, SlaPolicyRefSchema } from '../tickets/schema.js';
import { WEEKDAYS } from '../../../../workflows/sla/calendar.js';
import { SLA_PAUSABLE_STATUSES } from '../../../../workflows/vocabulary.js';

// A year is plenty for any target and keeps business-calendar searches bounded.
export const Seconds = z
  .number()
  .int()
  .min(1)
  .max(366 * 24 * 3600);

export const SlaPolicyParams = z.object({ priority: Priority });

export const WarningLevel = z
  .union([
    z.object({ percent: z.number().int().min(1).max(99).describe('share of the target') }).strict(),
    z.object({ minutes_before: z.number().int().min(1).describe('minutes before the deadline (less than the target)') }).strict(),
  ])
  .openapi('SlaWarningLevel');

export const PerMetric = <T extends z.ZodType>(item: T, what: string) =>
  z
    .object({
      assign: z.array(item).max(10).optional().describe(`${what} of the assign metric`),
      resolve: z.array(item).max(10).optional().describe(`${what} of the resolve metric`),
    })
    .strict();

export const PausableStatus = z.enum(SLA_PAUSABLE_STATUSES);

const WarningLevelState = z.object({
  level: WarningLevel,
  fired_at: Timestamp.nullable().describe('when it was due, once fired in this cycle'),
  due_at: Timestamp.nullable().describe('when it is (or was) due; null while the clock is stopped and the level has not fired'),
});

/** Warning levels and pause statuses as a policy or an SLA rule is written (issue 21). */
export const LevelsAndPausesWrite = {
  warning_levels: PerMetric(WarningLevel, 'the warning levels')
    .nullable()
    .optional()
    .describe(
      'per metric, each level fires ticket.sla_at_risk once per cycle (with the level in data.sla.level); a metric left out, or the whole field omitted or null, has the single at_risk_percent level; [] = no warning',
    ),
  pause_statuses: PerMetric(PausableStatus, 'the statuses that stop the clock')
    .nullable()
    .optional()
    .describe(
      'per metric, the statuses that stop its clock (paused always does); a metric left out, or the whole field omitted or null, takes the default: assign ["paused"], resolve ["paused", "waiting_on_customer"]',
    ),
};

/** Warning levels and pause statuses as a policy or an SLA rule shows them (defaults filled in). */
export const LevelsAndPausesRead = {
  warning_levels: z
    .object({ assign: z.array(WarningLevel), resolve: z.array(WarningLevel) })
    .describe('per metric, the warning levels in the order they are reached'),
  pause_statuses: z
    .object({ assign: z.array(z.enum(SLA_PAUSABLE_STATUSES)), resolve: z.array(z.enum(SLA_PAUSABLE_STATUSES)) })
    .describe('per metric, the ticket statuses that stop its clock'),
};

export const SlaPolicyPutSchema = z
  .object({
    assign_target_seconds: Seconds.describe('time allowed from creation to the first assignment to a user'),
    resolve_target_seconds: Seconds.describe('time allowed from creation to resolution (paused time never counts)'),
    at_risk_percent: z.number().int().min(1).max(99).default(80).describe('share of the target at which ticket.sla_at_risk fires'),
    calendar_id: z.uuid().nullable().default(null).describe('business calendar whose hours count; null = 24×7'),
    ...LevelsAndPausesWrite,
  })
  .strict();

export const SlaPolicySchema = z
  .object({
    priority: Priority,
    assign_target_seconds: z.number().int(),
    resolve_target_seconds: z.number().int(),
    at_risk_percent: z.number().int(),
    calendar_id: z.uuid().nullable(),
    version: z.number().int().describe('bumped by every PUT; tickets record the version they run on'),
    ...LevelsAndPausesRead,
    updated_at: Timestamp,
    sla_repair_id: z
      .uuid()
      .optional()
      .describe('with apply_to_open=true: the batch applying this version to open tickets (GET /sla-repairs/{id})'),
  })
  .openapi('SlaPolicy');

const HoursRange = z.object({ start: z.string().describe('HH:MM'), end: z.string().describe('HH:MM, up to 24:00') }).strict();

export const CalendarWriteSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    timezone: z.string().min(1).max(64).describe('IANA time zone, e.g. Europe/Berlin'),
    weekly_hours: z
      .partialRecord(z.enum(WEEKDAYS), z.array(HoursRange).max(12))
      .describe('business hours per weekday, several ranges allowed: {"mon": [{"start": "09:00", "end": "17:00"}]}'),
    holidays: z.array(z.string()).max(1000).default([]).describe('dates (YYYY-MM-DD, in the calendar zone) that count as closed'),
  })
  .strict();

export const CalendarSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    timezone: z.string(),
    weekly_hours: z.record(z.string(), z.array(HoursRange)),
    holidays: z.array(z.string()),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('BusinessCalendar');

export const TicketSlaSchema = z
  .object({
    ticket_id: z.uuid(),
    ticket_number: z.string(),
    computed_at: Timestamp,
    source: z.enum(['workflow', 'database']).describe('database when no worker answered the live query in time (no timeline then)'),
    at_risk_percent: z.number().int(),
    calendar: z.object({ id: z.string(), name: z.string(), timezone: z.string() }).nullable(),
    policy: SlaPolicyRefSchema,
    warning_levels: z
      .object({ assign: z.array(WarningLevelState), resolve: z.array(WarningLevelState) })
      .describe('per metric, the levels the clock runs under (copied from its policy) and where each stands in this cycle'),
    pause_statuses: z
      .object({ assign: z.array(z.string()), resolve: z.array(z.string()) })
      .describe('per metric, the ticket statuses that stop its clock'),
    assign: SlaMetricSchema,
    resolve: SlaMetricSchema,
    timeline: z.array(
      z.object({
        at: Timestamp,
        metric: z.enum(['assign', 'resolve']),
        kind: z.enum(['started', 'paused', 'resumed', 'target_changed', 'at_risk', 'breached', 'met', 'reopened']),
        elapsed_seconds: z.number().int(),
        target_seconds: z.number().int(),
        detail: z.string().optional(),
      }),
    ),
    timeline_truncated: z.number().int().describe('oldest entries dropped (the workflow keeps the last 500)'),
    breaches: z
      .array(
        z.object({
          metric: z.enum(['assign', 'resolve']),
          cycle: z.number().int().describe('1, then +1 on every reopen (resolve)'),
          due_at: Timestamp.describe('the deadline that passed'),
          recorded_at: Timestamp.describe('when it was recorded (later than due_at only if no worker ran then)'),
          target_seconds: z.number().int(),
        }),
      )
      .describe('every breach per metric and cycle, oldest first (from the stored events: complete even when the timeline is truncated)'),
  })
  .openapi('TicketSla');
