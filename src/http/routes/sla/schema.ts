import { z } from 'zod';
import { Timestamp } from '../common.js';
import { Priority, SlaMetricSchema, SlaPolicyRefSchema } from '../tickets/schema.js';
import { WEEKDAYS } from '../../../../workflows/sla/calendar.js';

// A year is plenty for any target and keeps business-calendar searches bounded.
export const Seconds = z
  .number()
  .int()
  .min(1)
  .max(366 * 24 * 3600);

export const SlaPolicyParams = z.object({ priority: Priority });

export const SlaPolicyPutSchema = z
  .object({
    assign_target_seconds: Seconds.describe('time allowed from creation to the first assignment to a user'),
    resolve_target_seconds: Seconds.describe('time allowed from creation to resolution (paused time never counts)'),
    at_risk_percent: z.number().int().min(1).max(99).default(80).describe('share of the target at which ticket.sla_at_risk fires'),
    calendar_id: z.uuid().nullable().default(null).describe('business calendar whose hours count; null = 24×7'),
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
