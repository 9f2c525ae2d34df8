/** The SLA terms a priority's tickets run under: its policy's targets, business calendar, warning levels and pause statuses. */
import type { Knex } from 'knex';
import { BusinessCalendar, SlaPolicy } from '../models/index.js';
import type { TicketPriority } from '../../workflows/definitions.js';
import type { BusinessCalendarRules } from '../../workflows/sla/calendar.js';
import type { SlaTerms } from '../../workflows/sla/clock.js';
import { optionalSlaTerms } from '../commands/sla/levels.js';

/** A calendar row as the clock needs it (a copy: later edits apply to tickets that start after them; DST range ends count real time). */
export function calendarRules(c: BusinessCalendar): BusinessCalendarRules & { id: string; name: string } {
  return { id: c.id, name: c.name, timezone: c.timezone, weeklyHours: c.weeklyHours, holidays: c.holidays, transitions: 'real-time' };
}

/** Null when the priority has no policy (a database that was never seeded): such tickets run without SLA. */
export async function loadSlaTerms(db: Knex, priority: TicketPriority): Promise<SlaTerms | null> {
  const policy = await SlaPolicy.query(db).findById(priority);
  if (!policy) return null;
  const calendar = policy.calendarId ? await BusinessCalendar.query(db).findById(policy.calendarId) : undefined;
  return {
    assignTargetSeconds: policy.assignTargetSeconds,
    resolveTargetSeconds: policy.resolveTargetSeconds,
    atRiskPercent: policy.atRiskPercent,
    calendar: calendar ? calendarRules(calendar) : null,
    policy: { key: defaultPolicyKey(priority), ruleId: null, name: `default (${priority})`, version: policy.version },
    ...optionalSlaTerms(policy),
  };
}

/** The key a ticket on the default policy of `priority` records (and `sla_repairs` names). */
export const defaultPolicyKey = (priority: TicketPriority) => `default:${priority}`;
