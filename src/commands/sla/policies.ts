/**
 * SLA policies (one per priority) and business calendars. Admins edit them; everyone signed in
 * reads them. A change applies to tickets created (or re-prioritised) afterwards: running tickets
 * keep the terms they started under, so their deadlines never jump.
 */
import { conflict, notFound, validationFailed } from '../../errors/index.js';
import { BusinessCalendar, SlaPolicy } from '../../models/index.js';
import { authorize } from '../../policies/index.js';
import { calendarProblems, deadlineReachDays, MAX_DEADLINE_DAYS, type BusinessCalendarRules } from '../../../workflows/sla/calendar.js';
import { TICKET_PRIORITIES, type TicketPriority } from '../../../workflows/vocabulary.js';
import type { CommandContext } from '../context.js';
import type { StoredWarningLevel } from '../../models/index.js';
import { normalisePauseStatuses, normaliseWarningLevels } from './levels.js';

type Ctx = Pick<CommandContext, 'principal' | 'db'>;

export async function slaPolicyLister(ctx: Ctx): Promise<SlaPolicy[]> {
  authorize(ctx.principal, 'slaPolicies.read');
  const policies = await SlaPolicy.query(ctx.db);
  return policies.sort((a, b) => TICKET_PRIORITIES.indexOf(a.priority) - TICKET_PRIORITIES.indexOf(b.priority));
}

export interface SlaPolicyInput {
  assign_target_seconds: number;
  resolve_target_seconds: number;
  at_risk_percent?: number;
  calendar_id?: string | null;
  warning_levels?: { assign?: StoredWarningLevel[]; resolve?: StoredWarningLevel[] } | null;
  pause_statuses?: { assign?: string[]; resolve?: string[] } | null;
}

/**
 * The targets whose deadline under `rules` could lie more than MAX_DEADLINE_DAYS of wall time
 * after some start from today on (never, for a calendar with no hours): such a ticket would
 * silently never breach.
 */
export function unreachableTargets(rules: BusinessCalendarRules, targets: { path: string; seconds: number }[], calendarName: string) {
  const today = new Date().toISOString().slice(0, 10);
  return targets
    .filter((t) => deadlineReachDays(rules, t.seconds, today) > MAX_DEADLINE_DAYS)
    .map((t) => ({
      path: t.path,
      message: `${t.seconds} s of business time under calendar "${calendarName}" could take more than ${MAX_DEADLINE_DAYS / 365} years of wall time to run out (its weekly hours, holidays from today on and DST changes counted); lower the target or widen the hours.`,
    }));
}

const policyTargets = (p: { assignTargetSeconds: number; resolveTargetSeconds: number }, prefix = '') => [
  { path: `${prefix}assign_target_seconds`, seconds: p.assignTargetSeconds },
  { path: `${prefix}resolve_target_seconds`, seconds: p.resolveTargetSeconds },
];

/**
 * PUT semantics: the policy of `priority` becomes exactly this (at-risk defaults to 80 %, no
 * calendar, the single at-risk level, the default pause statuses).
 */
export async function slaPolicyWriter(ctx: Ctx, priority: TicketPriority, input: SlaPolicyInput): Promise<SlaPolicy> {
  authorize(ctx.principal, 'slaPolicies.manage');
  const atRiskPercent = input.at_risk_percent ?? 80;
  const levels = normaliseWarningLevels(input.warning_levels, atRiskPercent, {
    assign: input.assign_target_seconds,
    resolve: input.resolve_target_seconds,
  });
  if (levels.problems.length) throw validationFailed(levels.problems);
  const calendarId = input.calendar_id ?? null;
  const calendar = calendarId ? await BusinessCalendar.query(ctx.db).findById(calendarId) : undefined;
  if (calendarId && !calendar) {
    throw validationFailed([
      { in: 'body', path: 'calendar_id', message: 'No business calendar has this id.', lookup: 'business_calendars' },
    ]);
  }
  if (calendar) {
    const rules = { timezone: calendar.timezone, weeklyHours: calendar.weeklyHours, holidays: calendar.holidays };
    const problems = unreachableTargets(
      rules,
      policyTargets({ assignTargetSeconds: input.assign_target_seconds, resolveTargetSeconds: input.resolve_target_seconds }),
      calendar.name,
    );
    if (problems.length) throw validationFailed(problems.map((p) => ({ in: 'body', ...p })));
  }
  const values = {
    priority,
    assignTargetSeconds: input.assign_target_seconds,
    resolveTargetSeconds: input.resolve_target_seconds,
    atRiskPercent,
    calendarId,
    warningLevels: levels.stored,
    pauseStatuses: normalisePauseStatuses(input.pause_statuses),
    updatedAt: new Date(),
  };
  return SlaPolicy.query(ctx.db)
    .insert(values as Partial<SlaPolicy>)
    .onConflict('priority')
    .merge({ ...values, version: ctx.db.raw('sla_policies.version + 1') } as unknown as Partial<SlaPolicy>)
    .returning('*');
}

export interface CalendarInput {
  name: string;
  timezone: string;
  weekly_hours: BusinessCalendarRules['weeklyHours'];
  holidays: string[];
}

function checkCalendar(input: CalendarInput): void {
  const problems = calendarProblems({ timezone: input.timezone, weeklyHours: input.weekly_hours, holidays: input.holidays });
  if (problems.length) throw validationFailed(problems.map((p) => ({ in: 'body', ...p })));
}

const columns = (input: CalendarInput) => ({
  name: input.name,
  timezone: input.timezone,
  weeklyHours: input.weekly_hours,
  holidays: [...new Set(input.holidays)].sort(),
});

export async function calendarLister(ctx: Ctx): Promise<BusinessCalendar[]> {
  authorize(ctx.principal, 'slaPolicies.read');
  return BusinessCalendar.query(ctx.db).orderBy('name');
}

export async function calendarFinder(ctx: Ctx, id: string): Promise<BusinessCalendar> {
  authorize(ctx.principal, 'slaPolicies.read');
  const calendar = await BusinessCalendar.query(ctx.db).findById(id);
  if (!calendar) throw notFound('Business calendar');
  return calendar;
}

export async function calendarCreator(ctx: Ctx, input: CalendarInput): Promise<BusinessCalendar> {
  authorize(ctx.principal, 'slaPolicies.manage');
  checkCalendar(input);
  return BusinessCalendar.query(ctx.db)
    .insert(columns(input) as Partial<BusinessCalendar>)
    .returning('*');
}

/** PUT: replaces the calendar; tickets already running keep the copy they started with. */
export async function calendarWriter(ctx: Ctx, id: string, input: CalendarInput): Promise<BusinessCalendar> {
  authorize(ctx.principal, 'slaPolicies.manage');
  checkCalendar(input);
  // the policies that use it must still be able to reach their deadlines under the new hours
  const rules = { timezone: input.timezone, weeklyHours: input.weekly_hours, holidays: input.holidays };
  const problems = (await SlaPolicy.query(ctx.db).where({ calendarId: id })).flatMap((p) =>
    unreachableTargets(rules, policyTargets(p, `policies.${p.priority}.`), input.name),
  );
  // and so must the SLA rules that use it (sla_rules: targets per priority)
  for (const r of await ctx.db('sla_rules').where({ calendarId: id }).select('id', 'targets')) {
    for (const [priority, t] of Object.entries(
      r.targets as Record<string, { assign_target_seconds: number; resolve_target_seconds: number }>,
    )) {
      const targets = { assignTargetSeconds: t.assign_target_seconds, resolveTargetSeconds: t.resolve_target_seconds };
      problems.push(...unreachableTargets(rules, policyTargets(targets, `sla_rules.${r.id}.${priority}.`), input.name));
    }
  }
  if (problems.length) throw validationFailed(problems.map((p) => ({ in: 'body', ...p })));
  const updated = await BusinessCalendar.query(ctx.db).patchAndFetchById(id, columns(input) as Partial<BusinessCalendar>);
  if (!updated) throw notFound('Business calendar');
  return updated;
}

export async function calendarDeleter(ctx: Ctx, id: string): Promise<void> {
  authorize(ctx.principal, 'slaPolicies.manage');
  const users = await SlaPolicy.query(ctx.db).where({ calendarId: id }).select('priority');
  if (users.length) {
    throw conflict(
      'calendar_in_use',
      `SLA policies still use this calendar (${users.map((p) => p.priority).join(', ')}); point them elsewhere first.`,
      {
        priorities: users.map((p) => p.priority),
      },
    );
  }
  const ruleUsers = await ctx.db('sla_rules').where({ calendarId: id }).select('id', 'name');
  if (ruleUsers.length) {
    throw conflict(
      'calendar_in_use',
      `SLA rules still use this calendar (${ruleUsers.map((r) => r.name).join(', ')}); point them elsewhere first.`,
      {
        sla_rules: ruleUsers.map((r) => r.id),
      },
    );
  }
  const deleted = await BusinessCalendar.query(ctx.db).deleteById(id);
  if (!deleted) throw notFound('Business calendar');
}
