/**
 * SLA preview, what-if over recent tickets, and a ticket's breach history: load what the pure
 * functions of ./preview.ts need, run them, and bound the work.
 */
import { setImmediate as nextTick } from 'node:timers/promises';
import { validationFailed } from '../../errors/index.js';
import { BusinessCalendar } from '../../models/index.js';
import { authorize } from '../../policies/index.js';
import { SLA_METRICS, type SlaMetric, type SlaTerms } from '../../../workflows/sla/clock.js';
import type { TicketPriority } from '../../../workflows/vocabulary.js';
import type { CommandContext } from '../context.js';
import {
  breachHistory,
  previewProblems,
  previewSla,
  replayTicket,
  type BreachRecord,
  type MetricOutcome,
  type PreviewPause,
  type SlaPreview,
  type TicketHistory,
} from './preview.js';
import { calendarRules, loadSlaTerms } from '../../store/sla-terms.js';
import type { StoredWarningLevel } from '../../models/index.js';
import { DEFAULT_PAUSE_STATUSES, warningLevelsOf, type WarningLevel } from '../../../workflows/sla/warnings.js';
import { normalisePauseStatuses, normaliseWarningLevels, optionalSlaTerms } from './levels.js';
import { loadSlaRules, ruleTerms } from './rules.js';

type Ctx = Pick<CommandContext, 'principal' | 'db'>;

/** A stored default policy (by priority), a stored SLA rule (its targets for a priority) or a draft of one. */
export type PolicyInput =
  | { priority: TicketPriority }
  | { rule_id: string; priority: TicketPriority }
  | {
      assign_target_seconds: number;
      resolve_target_seconds: number;
      at_risk_percent: number;
      calendar_id: string | null;
      warning_levels?: { assign?: StoredWarningLevel[]; resolve?: StoredWarningLevel[] } | null;
      pause_statuses?: { assign?: string[]; resolve?: string[] } | null;
    };

/**
 * The terms a policy input stands for — the same terms a ticket would run under, warning levels and
 * pause statuses included; 422 for an unknown calendar or rule, a rule without targets for the
 * priority, a priority without a policy, or warning levels a draft's targets cannot hold.
 */
async function termsOf(ctx: Ctx, policy: PolicyInput): Promise<SlaTerms> {
  if ('rule_id' in policy) {
    const rule = (await loadSlaRules(ctx.db)).find((r) => r.id === policy.rule_id);
    if (!rule) throw validationFailed([{ in: 'body', path: 'policy.rule_id', message: 'No SLA rule has this id.' }]);
    if (!rule.targets[policy.priority]) {
      throw validationFailed([{ in: 'body', path: 'policy.priority', message: 'This SLA rule has no targets for this priority.' }]);
    }
    return ruleTerms(ctx.db, rule, policy.priority);
  }
  if ('priority' in policy) {
    const terms = await loadSlaTerms(ctx.db, policy.priority);
    if (!terms) throw validationFailed([{ in: 'body', path: 'policy.priority', message: 'This priority has no SLA policy.' }]);
    return terms;
  }
  const calendar = policy.calendar_id ? await BusinessCalendar.query(ctx.db).findById(policy.calendar_id) : undefined;
  if (policy.calendar_id && !calendar) {
    throw validationFailed([
      { in: 'body', path: 'policy.calendar_id', message: 'No business calendar has this id.', lookup: 'business_calendars' },
    ]);
  }
  const levels = normaliseWarningLevels(policy.warning_levels, policy.at_risk_percent, {
    assign: policy.assign_target_seconds,
    resolve: policy.resolve_target_seconds,
  });
  if (levels.problems.length) throw validationFailed(levels.problems.map((p) => ({ ...p, path: `policy.${p.path}` })));
  return {
    assignTargetSeconds: policy.assign_target_seconds,
    resolveTargetSeconds: policy.resolve_target_seconds,
    atRiskPercent: policy.at_risk_percent,
    calendar: calendar ? calendarRules(calendar) : null,
    ...optionalSlaTerms({ warningLevels: levels.stored, pauseStatuses: normalisePauseStatuses(policy.pause_statuses) }),
  };
}

const storedLevel = (l: WarningLevel) => ('percent' in l ? { percent: l.percent } : { minutes_before: l.minutesBefore });

const presentTerms = (t: SlaTerms) => ({
  assign_target_seconds: t.assignTargetSeconds,
  resolve_target_seconds: t.resolveTargetSeconds,
  at_risk_percent: t.atRiskPercent,
  calendar: t.calendar ? { id: t.calendar.id, name: t.calendar.name, timezone: t.calendar.timezone } : null,
  warning_levels: Object.fromEntries(SLA_METRICS.map((m) => [m, warningLevelsOf(t, m).map(storedLevel)])),
  pause_statuses: t.pauseStatuses ?? DEFAULT_PAUSE_STATUSES,
  policy: t.policy ? { rule_id: t.policy.ruleId, name: t.policy.name, version: t.policy.version } : null,
});

export interface PreviewInput {
  policy: PolicyInput;
  start: Date;
  pauses: { from: Date; to: Date; status?: string }[];
}

/** Deadlines and warnings for a ticket started at `start` and paused as given, under a stored or draft policy. */
export async function slaPreviewer(ctx: Ctx, input: PreviewInput) {
  authorize(ctx.principal, 'slaPolicies.read');
  const start = input.start.getTime();
  const pauses: PreviewPause[] = input.pauses.map((p) => ({ from: p.from.getTime(), to: p.to.getTime(), status: p.status }));
  const problems = previewProblems(start, pauses);
  if (problems.length) throw validationFailed(problems.map((p) => ({ in: 'body', ...p })));
  const terms = await termsOf(ctx, input.policy);
  return { policy: presentTerms(terms), preview: previewSla(terms, start, pauses) satisfies SlaPreview };
}

/** At most this many tickets are replayed (the newest in the window); the answer says when more were there. */
export const WHAT_IF_TICKET_LIMIT = 10_000;
/** At most this many tickets whose outcome changes are listed by number. */
export const WHAT_IF_SAMPLE_LIMIT = 50;
/** Replays between two turns of the event loop, so a large what-if never stalls other requests. */
const CHUNK = 200;

export interface WhatIfInput {
  policy: PolicyInput;
  days: number;
  priority?: TicketPriority;
}

interface Tally {
  breached: number;
  assign_breached: number;
  resolve_breached: number;
  assign_breaches: number;
  resolve_breaches: number;
}

const tally = (): Tally => ({ breached: 0, assign_breached: 0, resolve_breached: 0, assign_breaches: 0, resolve_breaches: 0 });

function count(t: Tally, breaches: Record<SlaMetric, number>): void {
  if (breaches.assign + breaches.resolve > 0) t.breached++;
  for (const m of SLA_METRICS) {
    if (breaches[m] > 0) t[`${m}_breached`]++;
    t[`${m}_breaches`] += breaches[m];
  }
}

/**
 * Replay the tickets created in the last `days` days (live ones, optionally of one priority; the
 * newest WHAT_IF_TICKET_LIMIT) under the policy, and compare with the breaches they really had.
 */
export async function slaWhatIf(ctx: Ctx, input: WhatIfInput, now = new Date()) {
  authorize(ctx.principal, 'dashboards.read');
  const terms = await termsOf(ctx, input.policy);
  const from = new Date(now.getTime() - input.days * 86_400_000);
  const query = ctx
    .db('tickets')
    .whereNull('deleted_at')
    .where('created_at', '>=', from)
    .where('created_at', '<=', now)
    .select('id', 'ticket_number', 'priority', 'created_at', 'first_assigned_at')
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .limit(WHAT_IF_TICKET_LIMIT + 1);
  if (input.priority) query.where('priority', input.priority);
  const rows = (await query) as { id: string; ticketNumber: string; priority: string; createdAt: Date; firstAssignedAt: Date | null }[];
  const truncated = rows.length > WHAT_IF_TICKET_LIMIT;
  const tickets = rows.slice(0, WHAT_IF_TICKET_LIMIT);
  const ids = tickets.map((t) => t.id);

  const [statusRows, breachRows] = ids.length
    ? await Promise.all([
        ctx
          .db('audit_log')
          .whereRaw('ticket_id = any(?::uuid[])', [ids])
          .where({ action: 'updated', field_changed: 'status' })
          .select('ticket_id', 'created_at', 'old_value', 'new_value')
          .orderBy([{ column: 'ticket_id' }, { column: 'created_at' }, { column: 'ticket_version' }]),
        ctx
          .db('events')
          .whereRaw('ticket_id = any(?::uuid[])', [ids])
          .where('type', 'ticket.sla_breached')
          .select('ticket_id', ctx.db.raw(`payload->'data'->'sla'->>'metric' as metric`))
          .count('* as count')
          .groupBy('ticket_id', 'metric'),
      ])
    : [[], []];

  const changes = new Map<string, TicketHistory['statusChanges']>();
  for (const r of statusRows as { ticketId: string; createdAt: Date; oldValue: unknown; newValue: unknown }[]) {
    const list = changes.get(r.ticketId) ?? changes.set(r.ticketId, []).get(r.ticketId)!;
    list.push({ at: r.createdAt.getTime(), from: String(r.oldValue), to: String(r.newValue) });
  }
  const actualOf = new Map<string, Record<SlaMetric, number>>();
  for (const r of breachRows as { ticketId: string; metric: string; count: string }[]) {
    const a = actualOf.get(r.ticketId) ?? actualOf.set(r.ticketId, { assign: 0, resolve: 0 }).get(r.ticketId)!;
    if (r.metric === 'assign' || r.metric === 'resolve') a[r.metric] += Number(r.count);
  }

  const actual = tally();
  const whatIf = tally();
  const changed = { newly_breached: 0, no_longer_breached: 0 };
  const sample: { ticket_number: string; priority: string; actual: MetricOutcome; what_if: MetricOutcome }[] = [];
  const outcome = (b: Record<SlaMetric, number>): MetricOutcome => ({ assign: b.assign > 0, resolve: b.resolve > 0 });
  for (let i = 0; i < tickets.length; i++) {
    if (i > 0 && i % CHUNK === 0) await nextTick();
    const t = tickets[i]!;
    const history: TicketHistory = {
      ticketNumber: t.ticketNumber,
      createdAt: t.createdAt.getTime(),
      firstAssignedAt: t.firstAssignedAt?.getTime() ?? null,
      statusChanges: changes.get(t.id) ?? [],
    };
    const real = actualOf.get(t.id) ?? { assign: 0, resolve: 0 };
    const replayed = replayTicket(terms, history, now.getTime()).breaches;
    count(actual, real);
    count(whatIf, replayed);
    const [was, would] = [outcome(real), outcome(replayed)];
    const [wasAny, wouldAny] = [was.assign || was.resolve, would.assign || would.resolve];
    if (wouldAny && !wasAny) changed.newly_breached++;
    if (wasAny && !wouldAny) changed.no_longer_breached++;
    if ((was.assign !== would.assign || was.resolve !== would.resolve) && sample.length < WHAT_IF_SAMPLE_LIMIT) {
      sample.push({ ticket_number: t.ticketNumber, priority: t.priority, actual: was, what_if: would });
    }
  }
  return {
    policy: presentTerms(terms),
    days: input.days,
    priority: input.priority ?? null,
    window: { from: from.toISOString(), to: now.toISOString() },
    tickets: tickets.length,
    ticket_limit: WHAT_IF_TICKET_LIMIT,
    truncated,
    actual,
    what_if: whatIf,
    changed,
    sample,
    sample_limit: WHAT_IF_SAMPLE_LIMIT,
  };
}

/** A ticket's breaches per metric and cycle, from its stored `ticket.sla_breached` events (complete, unlike the workflow's capped timeline). */
export async function ticketBreachLister(ctx: Pick<CommandContext, 'db'>, ticketId: string): Promise<BreachRecord[]> {
  const rows = (await ctx
    .db('events')
    .where({ ticket_id: ticketId, type: 'ticket.sla_breached' })
    .select('created_at', ctx.db.raw(`payload->'data'->'sla' as sla`))
    .orderBy('seq')) as { createdAt: Date; sla: unknown }[];
  return breachHistory(rows.map((r) => ({ created_at: r.createdAt, sla: r.sla })));
}
