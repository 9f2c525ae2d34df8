/**
 * Conditional SLA policies (`sla_rules`): ordered rules matching on group, category, tags and
 * priority, each with targets per priority, an at-risk percent and a calendar. The first matching
 * rule (by position) gives a ticket its terms; none → the priority's default policy
 * (sla_policies). Admins write them; everyone who may read SLA policies reads them.
 */
import type { Knex } from 'knex';
import { notFound, validationFailed, type InputProblem } from '../../errors/index.js';
import { BusinessCalendar, Group } from '../../models/index.js';
import { authorize } from '../../policies/index.js';
import type { SlaTerms } from '../../../workflows/sla/clock.js';
import { TICKET_PRIORITIES, type TicketPriority } from '../../../workflows/vocabulary.js';
import type { CommandContext } from '../context.js';
import { matchSlaRule, type SlaMatchInput, type SlaRuleConditions, type SlaRuleTargets } from '../../../workflows/sla/match.js';
import { unreachableTargets } from './policies.js';
import { calendarRules, loadSlaTerms } from '../../store/sla-terms.js';
import type { StoredWarningLevel, StoredWarningLevels } from '../../models/index.js';
import type { PauseStatuses } from '../../../workflows/sla/warnings.js';
import { normalisePauseStatuses, normaliseWarningLevels, optionalSlaTerms } from './levels.js';

type Ctx = Pick<CommandContext, 'principal' | 'db'>;

/** A row of sla_rules (the knex instance maps column names to camelCase). */
export interface SlaRule {
  id: string;
  name: string;
  position: number;
  conditions: SlaRuleConditions;
  targets: Partial<Record<TicketPriority, SlaRuleTargets>>;
  atRiskPercent: number;
  calendarId: string | null;
  /** as on sla_policies (snake_case keys); null = the single at-risk level */
  warningLevels: StoredWarningLevels | null;
  /** null = DEFAULT_PAUSE_STATUSES */
  pauseStatuses: PauseStatuses | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface SlaRuleInput {
  name: string;
  conditions: SlaRuleConditions;
  targets: Partial<Record<TicketPriority, SlaRuleTargets>>;
  at_risk_percent: number;
  calendar_id: string | null;
  warning_levels?: { assign?: StoredWarningLevel[]; resolve?: StoredWarningLevel[] } | null;
  pause_statuses?: { assign?: string[]; resolve?: string[] } | null;
}

const rules = (db: Knex) => db<SlaRule>('sla_rules');

/** The rules in the order they are tried. */
export async function loadSlaRules(db: Knex): Promise<SlaRule[]> {
  return rules(db).select('*').orderBy('position');
}

/** The terms of `rule` for `priority` (its targets for that priority must exist). */
export async function ruleTerms(db: Knex, rule: SlaRule, priority: TicketPriority): Promise<SlaTerms> {
  const targets = rule.targets[priority]!;
  const calendar = rule.calendarId ? await BusinessCalendar.query(db).findById(rule.calendarId) : undefined;
  return {
    assignTargetSeconds: targets.assign_target_seconds,
    resolveTargetSeconds: targets.resolve_target_seconds,
    atRiskPercent: rule.atRiskPercent,
    calendar: calendar ? calendarRules(calendar) : null,
    policy: { key: rule.id, ruleId: rule.id, name: rule.name, version: rule.version },
    ...optionalSlaTerms(rule),
  };
}

/** The terms a ticket with these fields runs under: the first matching rule's, else its priority's default policy. */
export async function matchSlaTerms(db: Knex, t: SlaMatchInput): Promise<SlaTerms | null> {
  const rule = matchSlaRule(await loadSlaRules(db), t);
  return rule ? ruleTerms(db, rule, t.priority) : loadSlaTerms(db, t.priority);
}

export async function slaRuleLister(ctx: Ctx): Promise<SlaRule[]> {
  authorize(ctx.principal, 'slaPolicies.read');
  return loadSlaRules(ctx.db);
}

export async function slaRuleFinder(ctx: Ctx, id: string): Promise<SlaRule> {
  authorize(ctx.principal, 'slaPolicies.read');
  const rule = await rules(ctx.db).where({ id }).first();
  if (!rule) throw notFound('SLA rule');
  return rule;
}

/** What the schema cannot check: the groups and the calendar exist, every target is reachable under the calendar. */
async function checkReferences(db: Knex, input: SlaRuleInput): Promise<void> {
  const problems: InputProblem[] = [...ruleWarningLevels(input).problems];
  const groups = input.conditions.groups ?? [];
  if (groups.length) {
    const found = new Set((await Group.query(db).whereIn('id', groups).select('id')).map((g) => g.id));
    groups.forEach((g, i) => {
      if (!found.has(g)) problems.push({ in: 'body', path: `conditions.groups.${i}`, message: 'No group has this id.', lookup: 'groups' });
    });
  }
  if (input.calendar_id) {
    const calendar = await BusinessCalendar.query(db).findById(input.calendar_id);
    if (!calendar) {
      problems.push({ in: 'body', path: 'calendar_id', message: 'No business calendar has this id.', lookup: 'business_calendars' });
    } else {
      const rules = { timezone: calendar.timezone, weeklyHours: calendar.weeklyHours, holidays: calendar.holidays };
      const targets = TICKET_PRIORITIES.flatMap((p) => {
        const t = input.targets[p];
        return t
          ? [
              { path: `targets.${p}.assign_target_seconds`, seconds: t.assign_target_seconds },
              { path: `targets.${p}.resolve_target_seconds`, seconds: t.resolve_target_seconds },
            ]
          : [];
      });
      problems.push(...unreachableTargets(rules, targets, calendar.name).map((p) => ({ in: 'body' as const, ...p })));
    }
  }
  if (problems.length) throw validationFailed(problems);
}

/**
 * The rule's warning levels, checked as a policy's are against the targets of every priority it
 * has (a `minutes_before` level must fall after the start for each), stored in the order they are
 * reached under its first priority's targets.
 */
function ruleWarningLevels(input: SlaRuleInput): { stored: StoredWarningLevels | null; problems: InputProblem[] } {
  let stored: StoredWarningLevels | null = null;
  const problems = new Map<string, InputProblem>();
  for (const p of TICKET_PRIORITIES) {
    const t = input.targets[p];
    if (!t) continue;
    const levels = normaliseWarningLevels(input.warning_levels, input.at_risk_percent, {
      assign: t.assign_target_seconds,
      resolve: t.resolve_target_seconds,
    });
    stored ??= levels.stored;
    for (const problem of levels.problems) if (!problems.has(problem.path)) problems.set(problem.path, problem);
  }
  return { stored, problems: [...problems.values()] };
}

const json = (v: unknown) => (v === null ? null : JSON.stringify(v));

const columns = (input: SlaRuleInput) => ({
  name: input.name,
  conditions: JSON.stringify(input.conditions),
  targets: JSON.stringify(input.targets),
  atRiskPercent: input.at_risk_percent,
  calendarId: input.calendar_id,
  warningLevels: json(ruleWarningLevels(input).stored),
  pauseStatuses: json(normalisePauseStatuses(input.pause_statuses)),
});

/** A new rule is tried last (reorder with PUT /sla-rule-order). */
export async function slaRuleCreator(ctx: Ctx, input: SlaRuleInput): Promise<SlaRule> {
  authorize(ctx.principal, 'slaPolicies.manage');
  await checkReferences(ctx.db, input);
  return ctx.db.transaction(async (trx) => {
    // one writer at a time takes the next position
    await trx.raw('LOCK TABLE sla_rules IN SHARE ROW EXCLUSIVE MODE');
    const last = await rules(trx).max('position as max').first();
    const position = ((last as { max: number | null } | undefined)?.max ?? 0) + 1;
    const [row] = await rules(trx)
      .insert({ ...columns(input), position } as never)
      .returning('*');
    return row as SlaRule;
  });
}

/** PUT: the rule becomes exactly this, one version on (it keeps its position). */
export async function slaRuleWriter(ctx: Ctx, id: string, input: SlaRuleInput): Promise<SlaRule> {
  authorize(ctx.principal, 'slaPolicies.manage');
  await checkReferences(ctx.db, input);
  const [row] = await rules(ctx.db)
    .where({ id })
    .update({ ...columns(input), version: ctx.db.raw('version + 1'), updatedAt: new Date() } as never)
    .returning('*');
  if (!row) throw notFound('SLA rule');
  return row as SlaRule;
}

/** Tickets already on the rule keep its terms (they are copies); their next matched change re-matches them. */
export async function slaRuleDeleter(ctx: Ctx, id: string): Promise<void> {
  authorize(ctx.principal, 'slaPolicies.manage');
  const deleted = await rules(ctx.db).where({ id }).delete();
  if (!deleted) throw notFound('SLA rule');
}

/** The new order: every rule's id exactly once, first tried first. */
export async function slaRuleReorderer(ctx: Ctx, ids: string[]): Promise<SlaRule[]> {
  authorize(ctx.principal, 'slaPolicies.manage');
  return ctx.db.transaction(async (trx) => {
    await trx.raw('LOCK TABLE sla_rules IN SHARE ROW EXCLUSIVE MODE');
    const existing = (await rules(trx).select('id')).map((r) => r.id);
    const given = new Set(ids);
    const missing = existing.filter((id) => !given.has(id));
    const unknown = ids.filter((id) => !existing.includes(id));
    if (missing.length || unknown.length || given.size !== ids.length) {
      throw validationFailed(
        [{ in: 'body', path: 'ids', message: 'List every SLA rule id exactly once.' }],
        'The new order must name every SLA rule exactly once.',
      );
    }
    await trx.raw('SET CONSTRAINTS sla_rules_position_unique DEFERRED');
    for (const [i, id] of ids.entries())
      await rules(trx)
        .where({ id })
        .update({ position: i + 1 } as never);
    return rules(trx).select('*').orderBy('position');
  });
}
