/**
 * The SLA clock of a ticket as pure data and functions: two metrics (assign, resolve), each with
 * a target and the business time elapsed so far, running, paused or met. The ticket workflow keeps
 * one of these in its state and arms timers for `nextSlaInstant`; the API presents `slaFigures`
 * from the copy written to the ticket row. Times are epoch milliseconds or ISO strings (state must
 * survive JSON); nothing here reads the clock — callers pass `now`.
 */
import { addBusinessMs, businessMsBetween, type BusinessCalendarRules } from './calendar.js';
import type { SlaState } from '../vocabulary.js';
import {
  DEFAULT_PAUSE_STATUSES,
  firedWarningAt,
  levelKey,
  levelThresholdMs,
  warningLevelsOf,
  type PauseStatuses,
  type WarningLevel,
  type WarningLevels,
} from './warnings.js';

export { DEFAULT_PAUSE_STATUSES, type PauseStatuses, type WarningLevel, type WarningLevels } from './warnings.js';

export const SLA_METRICS = ['assign', 'resolve'] as const;
export type SlaMetric = (typeof SLA_METRICS)[number];
export type SlaSignal = 'at_risk' | 'breached';

/** The policy terms a ticket's clock runs under (its priority's policy, at creation or priority change). */
export interface SlaTerms {
  assignTargetSeconds: number;
  resolveTargetSeconds: number;
  atRiskPercent: number;
  calendar: (BusinessCalendarRules & { id: string; name: string }) | null;
  /** warning levels per metric; absent = the single `atRiskPercent` level (the clock then keeps its older shape) */
  warningLevels?: WarningLevels;
  /** the statuses that stop each clock; absent = DEFAULT_PAUSE_STATUSES */
  pauseStatuses?: PauseStatuses;
  /** which policy and version these terms are (absent in terms from before conditional policies) */
  policy?: SlaPolicyRef;
}

/** A policy as a ticket's clocks record it: `key` is `default:<priority>` or the SLA rule's id. */
export interface SlaPolicyRef {
  key: string;
  /** the SLA rule's id; null for the default policy (the priority's row of sla_policies) */
  ruleId: string | null;
  name: string;
  version: number;
}

export interface MetricClock {
  targetSeconds: number;
  /** business ms counted before `runningSince` */
  elapsedMs: number;
  /** ISO instant the clock last started counting; null unless running */
  runningSince: string | null;
  phase: 'running' | 'paused' | 'met';
  metAt: string | null;
  /** 1, then +1 on every reopen: at-risk and breach fire once per cycle */
  cycle: number;
  /** the instants the signals were due, once fired in this cycle */
  atRiskAt: string | null;
  breachedAt: string | null;
  /**
   * When the clock runs under warning levels: each fired level's key (`percent:75`,
   * `minutes_before:10`) → the instant it was due, in this cycle. Absent on clocks of the single
   * at-risk level, whose `atRiskAt` says whether it fired. `atRiskAt` is the first warning either way.
   */
  warnings?: Record<string, string>;
}

export interface TicketSla {
  atRiskPercent: number;
  calendar: SlaTerms['calendar'];
  /** the policy the terms came from (absent: a clock started before conditional policies) */
  policy?: SlaPolicyRef;
  /** absent on clocks started without levels: the single `atRiskPercent` level */
  warningLevels?: WarningLevels;
  /** absent: DEFAULT_PAUSE_STATUSES */
  pauseStatuses?: PauseStatuses;
  assign: MetricClock;
  resolve: MetricClock;
}

export type SlaTimelineKind = 'started' | 'paused' | 'resumed' | 'target_changed' | 'at_risk' | 'breached' | 'met' | 'reopened';

/** One line of the explainable history: `elapsed_seconds` is the metric's business time at `at`. */
export interface SlaTimelineEntry {
  at: string;
  metric: SlaMetric;
  kind: SlaTimelineKind;
  elapsedSeconds: number;
  targetSeconds: number;
  detail?: string;
}

export interface SlaStep {
  sla: TicketSla;
  timeline: SlaTimelineEntry[];
}

const ms = (iso: string) => Date.parse(iso);
const iso = (epochMs: number) => new Date(epochMs).toISOString();

/** Business ms a metric has counted at `now`. */
export function elapsedMs(c: MetricClock, calendar: BusinessCalendarRules | null, now: number): number {
  return c.elapsedMs + (c.runningSince ? businessMsBetween(calendar, ms(c.runningSince), now) : 0);
}

/** The business ms of the metric's first warning level (the earliest), or null when it has none. */
function firstWarningMs(sla: TicketSla, metric: SlaMetric): number | null {
  const thresholds = warningLevelsOf(sla, metric).map((l) => levelThresholdMs(l, sla[metric].targetSeconds));
  return thresholds.length ? Math.min(...thresholds) : null;
}

/** When a running metric reaches `thresholdMs` of business time (in the past if it already has); null unless running. */
function instantAt(sla: TicketSla, metric: SlaMetric, thresholdMs: number): number | null {
  const c = sla[metric];
  if (c.phase !== 'running' || !c.runningSince) return null;
  return addBusinessMs(sla.calendar, ms(c.runningSince), Math.max(0, thresholdMs - c.elapsedMs));
}

/**
 * When a running metric reaches the signal's threshold (in the past if it already has); null unless
 * running. For `at_risk`: its first warning level (null when it has none).
 */
export function signalInstant(sla: TicketSla, metric: SlaMetric, signal: SlaSignal): number | null {
  const threshold = signal === 'breached' ? sla[metric].targetSeconds * 1000 : firstWarningMs(sla, metric);
  return threshold === null ? null : instantAt(sla, metric, threshold);
}

/** When a running metric reaches a warning level (in the past if it already has); null unless running. */
export function warningInstant(sla: TicketSla, metric: SlaMetric, level: WarningLevel): number | null {
  return instantAt(sla, metric, levelThresholdMs(level, sla[metric].targetSeconds));
}

export interface DueSignal {
  metric: SlaMetric;
  signal: SlaSignal;
  /** when it was (or will be) due, epoch ms */
  at: number;
  /** the warning level of an `at_risk` signal */
  level?: WarningLevel;
}

/**
 * Signals not yet fired in their metric's cycle, for running metrics, earliest first (warnings
 * before the breach due at the same instant, levels in their order). A warning level reached
 * after the breach was recorded never fires: once breached, "at risk" carries no news (a level
 * a priority change put in the past fires at once, before a breach due with it).
 */
export function pendingSignals(sla: TicketSla): DueSignal[] {
  const pending: DueSignal[] = [];
  for (const metric of SLA_METRICS) {
    const c = sla[metric];
    if (c.breachedAt !== null) continue;
    for (const level of warningLevelsOf(sla, metric)) {
      if (firedWarningAt(sla, metric, level) !== null) continue;
      const at = instantAt(sla, metric, levelThresholdMs(level, c.targetSeconds));
      if (at !== null) pending.push({ metric, signal: 'at_risk', at, level });
    }
    const at = signalInstant(sla, metric, 'breached');
    if (at !== null) pending.push({ metric, signal: 'breached', at });
  }
  // stable: equal instants keep metric order, then levels in order, then the breach
  return pending.sort((a, b) => a.at - b.at || (a.signal === b.signal ? 0 : a.signal === 'at_risk' ? -1 : 1));
}

/** The next instant the workflow must wake for, or null if no clock is running. */
export function nextSlaInstant(sla: TicketSla): number | null {
  return pendingSignals(sla)[0]?.at ?? null;
}

/** Signals due at `now`, at-risk before breach. */
export function dueSignals(sla: TicketSla, now: number): DueSignal[] {
  return pendingSignals(sla).filter((s) => s.at <= now);
}

function entry(sla: TicketSla, metric: SlaMetric, kind: SlaTimelineKind, at: number, detail?: string): SlaTimelineEntry {
  const e: SlaTimelineEntry = {
    at: iso(at),
    metric,
    kind,
    elapsedSeconds: Math.floor(elapsedMs(sla[metric], sla.calendar, at) / 1000),
    targetSeconds: sla[metric].targetSeconds,
  };
  if (detail !== undefined) e.detail = detail;
  return e;
}

/** Both clocks start at creation; the assign metric is met at once if the ticket starts assigned to a user. */
export function startSla(terms: SlaTerms, at: number, assignedToUser: boolean): SlaStep {
  const clock = (targetSeconds: number): MetricClock => ({
    targetSeconds,
    elapsedMs: 0,
    runningSince: iso(at),
    phase: 'running',
    metAt: null,
    cycle: 1,
    atRiskAt: null,
    breachedAt: null,
  });
  const sla: TicketSla = {
    atRiskPercent: terms.atRiskPercent,
    calendar: terms.calendar,
    ...optionalTerms(terms),
    assign: clock(terms.assignTargetSeconds),
    resolve: clock(terms.resolveTargetSeconds),
    ...(terms.policy && { policy: terms.policy }),
  };
  if (sla.warningLevels) for (const m of SLA_METRICS) sla[m].warnings = {};
  const timeline = SLA_METRICS.map((m) => entry(sla, m, 'started', at, terms.calendar ? `calendar ${terms.calendar.name}` : '24×7'));
  // `meet` appends to the step it is given: its timeline already holds both starts
  return assignedToUser ? meet({ sla, timeline }, 'assign', at) : { sla, timeline };
}

/** Fold the running time into `elapsedMs` (the clock keeps running from `at`). */
function checkpoint(c: MetricClock, calendar: BusinessCalendarRules | null, at: number): MetricClock {
  if (!c.runningSince) return c;
  return { ...c, elapsedMs: elapsedMs(c, calendar, at), runningSince: iso(at) };
}

function update(
  step: SlaStep,
  metric: SlaMetric,
  kind: SlaTimelineKind,
  at: number,
  change: (c: MetricClock) => MetricClock,
  detail?: string,
): SlaStep {
  const sla = { ...step.sla, [metric]: change(step.sla[metric]) };
  return { sla, timeline: [...step.timeline, entry(sla, metric, kind, at, detail)] };
}

/** The warning levels and pause statuses of `terms`, only where set (a clock without them keeps its older shape). */
function optionalTerms(terms: SlaTerms): Pick<TicketSla, 'warningLevels' | 'pauseStatuses'> {
  return {
    ...(terms.warningLevels ? { warningLevels: terms.warningLevels } : {}),
    ...(terms.pauseStatuses ? { pauseStatuses: terms.pauseStatuses } : {}),
  };
}

/** Ticket paused: every running clock stops, keeping its elapsed time (`metrics`: only these). */
export function pauseSla(sla: TicketSla, at: number, metrics: readonly SlaMetric[] = SLA_METRICS): SlaStep {
  let step: SlaStep = { sla, timeline: [] };
  for (const m of metrics) {
    if (sla[m].phase !== 'running') continue;
    step = update(step, m, 'paused', at, (c) => ({ ...checkpoint(c, sla.calendar, at), runningSince: null, phase: 'paused' }));
  }
  return step;
}

/** Ticket resumed: every paused clock counts again from `at` (`metrics`: only these). */
export function resumeSla(sla: TicketSla, at: number, metrics: readonly SlaMetric[] = SLA_METRICS): SlaStep {
  let step: SlaStep = { sla, timeline: [] };
  for (const m of metrics) {
    if (sla[m].phase !== 'paused') continue;
    step = update(step, m, 'resumed', at, (c) => ({ ...c, runningSince: iso(at), phase: 'running' }));
  }
  return step;
}

/** Whether `status` stops the metric's clock under the clock's pause statuses. */
export function stopsClock(sla: TicketSla, metric: SlaMetric, status: string): boolean {
  return (sla.pauseStatuses ?? DEFAULT_PAUSE_STATUSES)[metric].includes(status);
}

/**
 * The ticket is now in `status` (not resolved): each unmet clock stops if its pause statuses name
 * it and runs otherwise (pauses first, then resumes, each in metric order). With the default
 * statuses this is exactly "`paused` stops every clock, leaving it resumes them".
 */
export function followStatus(sla: TicketSla, status: string, at: number): SlaStep {
  const stop = SLA_METRICS.filter((m) => sla[m].phase === 'running' && stopsClock(sla, m, status));
  const paused = pauseSla(sla, at, stop);
  const run = SLA_METRICS.filter((m) => paused.sla[m].phase === 'paused' && !stopsClock(paused.sla, m, status));
  const resumed = resumeSla(paused.sla, at, run);
  return { sla: resumed.sla, timeline: [...paused.timeline, ...resumed.timeline] };
}

/** The metric's goal was reached (first assignment to a user; resolution): its clock stops for good, or until reopen. */
export function meet(step: SlaStep, metric: SlaMetric, at: number): SlaStep {
  const c = step.sla[metric];
  if (c.phase === 'met') return step;
  return update(step, metric, 'met', at, (x) => ({
    ...checkpoint(x, step.sla.calendar, at),
    runningSince: null,
    phase: 'met',
    metAt: iso(at),
  }));
}

/** Resolution meets the resolve metric and, if nobody was ever assigned, closes the assign metric too. */
export function resolveSla(sla: TicketSla, at: number): SlaStep {
  return meet(meet({ sla, timeline: [] }, 'resolve', at), 'assign', at);
}

/** Reopen: the resolve clock counts on from its elapsed time in a new cycle (its signals may fire again). */
export function reopenSla(sla: TicketSla, at: number): SlaStep {
  const c = sla.resolve;
  if (c.phase !== 'met') return { sla, timeline: [] };
  return update({ sla, timeline: [] }, 'resolve', 'reopened', at, () => ({
    ...c,
    runningSince: iso(at),
    phase: 'running',
    metAt: null,
    cycle: c.cycle + 1,
    atRiskAt: null,
    breachedAt: null,
    ...(c.warnings ? { warnings: {} } : {}),
  }));
}

/**
 * Priority change: new targets, at-risk percent and calendar apply from `at`; elapsed time is kept
 * (counted under the old calendar up to `at`). Signals already fired stay fired; ones now past due
 * come out of `dueSignals` at once. A met resolve clock takes the new target too when
 * `retargetMetResolve` (a reopen then runs under the current priority's terms, its target and
 * at-risk percent together); histories from before that rule replay without it.
 */
export function retargetSla(sla: TicketSla, terms: SlaTerms, at: number, retargetMetResolve = false): SlaStep {
  const targets: Record<SlaMetric, number> = { assign: terms.assignTargetSeconds, resolve: terms.resolveTargetSeconds };
  const folded: TicketSla = {
    atRiskPercent: terms.atRiskPercent,
    calendar: terms.calendar,
    ...optionalTerms(terms),
    assign: checkpoint(sla.assign, sla.calendar, at),
    resolve: checkpoint(sla.resolve, sla.calendar, at),
    ...(terms.policy && { policy: terms.policy }),
  };
  // Once either side has warning levels the clock keeps them explicitly, each fired level by its
  // key (a level the new terms share with the old stays fired; a new one already past fires at once).
  if (sla.warningLevels || terms.warningLevels) {
    folded.warningLevels = { assign: warningLevelsOf(folded, 'assign'), resolve: warningLevelsOf(folded, 'resolve') };
    for (const m of SLA_METRICS) {
      const legacy = sla[m].atRiskAt !== null ? { [levelKey({ percent: sla.atRiskPercent })]: sla[m].atRiskAt! } : {};
      folded[m] = { ...folded[m], warnings: sla[m].warnings ?? legacy };
    }
  }
  let step: SlaStep = { sla: folded, timeline: [] };
  for (const m of SLA_METRICS) {
    if (folded[m].phase === 'met' && !(m === 'resolve' && retargetMetResolve)) continue;
    const from = sla[m].targetSeconds;
    step = update(step, m, 'target_changed', at, (c) => ({ ...c, targetSeconds: targets[m] }), `${from}s → ${targets[m]}s`);
  }
  return step;
}

/** Whether `terms` would change anything on `sla`: its policy (key or version), targets, at-risk percent, calendar, warning levels or pause statuses. */
export function termsDiffer(sla: TicketSla, terms: SlaTerms): boolean {
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  return (
    !same(sla.policy && [sla.policy.key, sla.policy.version], terms.policy && [terms.policy.key, terms.policy.version]) ||
    sla.assign.targetSeconds !== terms.assignTargetSeconds ||
    sla.resolve.targetSeconds !== terms.resolveTargetSeconds ||
    sla.atRiskPercent !== terms.atRiskPercent ||
    !same(sla.calendar, terms.calendar) ||
    !same(sla.warningLevels, terms.warningLevels) ||
    !same(sla.pauseStatuses, terms.pauseStatuses)
  );
}

/** Record a signal as fired; `due` is when it was due (the breach instant), `at` when it fired. */
export function fireSignal(sla: TicketSla, signal: DueSignal, at: number): SlaStep {
  const due = iso(signal.at);
  const fire = (c: MetricClock): MetricClock => {
    if (signal.signal === 'breached') return { ...c, breachedAt: due };
    if (!c.warnings || !signal.level) return { ...c, atRiskAt: due };
    return { ...c, atRiskAt: c.atRiskAt ?? due, warnings: { ...c.warnings, [levelKey(signal.level)]: due } };
  };
  // the level names itself where there are several (older single-level timelines keep their shape)
  const level = sla.warningLevels && signal.level ? `warning ${levelLabel(signal.level)}` : undefined;
  const late = at - signal.at >= 1000 ? `recorded ${Math.round((at - signal.at) / 1000)}s late (no worker was running)` : undefined;
  const detail = [level, late].filter((x) => x !== undefined).join('; ');
  return update({ sla, timeline: [] }, signal.metric, signal.signal, signal.at, fire, detail || undefined);
}

/** `75%` or `10 min before` (timeline details). */
export function levelLabel(level: WarningLevel): string {
  return 'percent' in level ? `${level.percent}%` : `${level.minutesBefore} min before`;
}

/** A metric's figures as every ticket response carries them (snake_case: this is API output). */
export interface SlaFigures {
  target_seconds: number;
  elapsed_seconds: number;
  remaining_seconds: number;
  due_at: string | null;
  at_risk_at: string | null;
  state: SlaState;
  at_risk: boolean;
  breached_at: string | null;
  met_at: string | null;
  cycle: number;
}

/** Figures at `now`. A metric past its target is `breached` even in the instant before its signal fires. */
export function slaFigures(sla: TicketSla, metric: SlaMetric, now: number): SlaFigures {
  const c = sla[metric];
  const elapsed = elapsedMs(c, sla.calendar, now);
  const target = c.targetSeconds * 1000;
  const due = signalInstant(sla, metric, 'breached');
  const atRiskDue = signalInstant(sla, metric, 'at_risk');
  const breachedAt = c.breachedAt ?? (c.phase === 'running' && elapsed >= target && due !== null ? iso(due) : null);
  // any warning level reached
  const firstWarning = firstWarningMs(sla, metric);
  const atRisk = c.phase !== 'met' && firstWarning !== null && elapsed >= firstWarning;
  return {
    target_seconds: c.targetSeconds,
    elapsed_seconds: Math.floor(elapsed / 1000),
    remaining_seconds: Math.max(0, Math.ceil((target - elapsed) / 1000)),
    // while paused or met there is no deadline: it moves with the pause
    due_at: due === null ? null : iso(due),
    at_risk_at: c.atRiskAt ?? (atRiskDue !== null && atRisk ? iso(atRiskDue) : null),
    state: breachedAt ? 'breached' : c.phase,
    at_risk: atRisk,
    breached_at: breachedAt,
    met_at: c.metAt,
    cycle: c.cycle,
  };
}

/** Whether any metric breached in its current cycle (the `SlaBreached` search attribute and column). */
export function isBreached(sla: TicketSla | undefined): boolean {
  return !!sla && SLA_METRICS.some((m) => sla[m].breachedAt !== null);
}
