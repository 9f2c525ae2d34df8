/**
 * The SLA clock of a ticket as pure data and functions: two metrics (assign, resolve), each with
 * a target and the business time elapsed so far, running, paused or met. The ticket workflow keeps
 * one of these in its state and arms timers for `nextSlaInstant`; the API presents `slaFigures`
 * from the copy written to the ticket row. Times are epoch milliseconds or ISO strings (state must
 * survive JSON); nothing here reads the clock — callers pass `now`.
 */
import { addBusinessMs, businessMsBetween, type BusinessCalendarRules } from './calendar.js';
import type { SlaState } from '../vocabulary.js';

export const SLA_METRICS = ['assign', 'resolve'] as const;
export type SlaMetric = (typeof SLA_METRICS)[number];
export type SlaSignal = 'at_risk' | 'breached';

/** The policy terms a ticket's clock runs under (its priority's policy, at creation or priority change). */
export interface SlaTerms {
  assignTargetSeconds: number;
  resolveTargetSeconds: number;
  atRiskPercent: number;
  calendar: (BusinessCalendarRules & { id: string; name: string }) | null;
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
}

export interface TicketSla {
  atRiskPercent: number;
  calendar: SlaTerms['calendar'];
  /** the policy the terms came from (absent: a clock started before conditional policies) */
  policy?: SlaPolicyRef;
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

function thresholdMs(c: MetricClock, signal: SlaSignal, atRiskPercent: number): number {
  const target = c.targetSeconds * 1000;
  return signal === 'breached' ? target : Math.floor((target * atRiskPercent) / 100);
}

/** When a running metric reaches the signal's threshold (in the past if it already has); null unless running. */
export function signalInstant(sla: TicketSla, metric: SlaMetric, signal: SlaSignal): number | null {
  const c = sla[metric];
  if (c.phase !== 'running' || !c.runningSince) return null;
  const remaining = thresholdMs(c, signal, sla.atRiskPercent) - c.elapsedMs;
  return addBusinessMs(sla.calendar, ms(c.runningSince), Math.max(0, remaining));
}

export interface DueSignal {
  metric: SlaMetric;
  signal: SlaSignal;
  /** when it was (or will be) due, epoch ms */
  at: number;
}

/** Signals not yet fired in their metric's cycle, for running metrics, earliest first. */
export function pendingSignals(sla: TicketSla): DueSignal[] {
  const pending: DueSignal[] = [];
  for (const metric of SLA_METRICS) {
    const c = sla[metric];
    for (const signal of ['at_risk', 'breached'] as const) {
      if ((signal === 'at_risk' ? c.atRiskAt : c.breachedAt) !== null) continue;
      const at = signalInstant(sla, metric, signal);
      if (at !== null) pending.push({ metric, signal, at });
    }
  }
  return pending.sort((a, b) => a.at - b.at || (a.signal === 'at_risk' ? -1 : 1));
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
    assign: clock(terms.assignTargetSeconds),
    resolve: clock(terms.resolveTargetSeconds),
    ...(terms.policy && { policy: terms.policy }),
  };
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

/** Ticket paused: every running clock stops, keeping its elapsed time. */
export function pauseSla(sla: TicketSla, at: number): SlaStep {
  let step: SlaStep = { sla, timeline: [] };
  for (const m of SLA_METRICS) {
    if (sla[m].phase !== 'running') continue;
    step = update(step, m, 'paused', at, (c) => ({ ...checkpoint(c, sla.calendar, at), runningSince: null, phase: 'paused' }));
  }
  return step;
}

/** Ticket resumed: every paused clock counts again from `at`. */
export function resumeSla(sla: TicketSla, at: number): SlaStep {
  let step: SlaStep = { sla, timeline: [] };
  for (const m of SLA_METRICS) {
    if (sla[m].phase !== 'paused') continue;
    step = update(step, m, 'resumed', at, (c) => ({ ...c, runningSince: iso(at), phase: 'running' }));
  }
  return step;
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
    assign: checkpoint(sla.assign, sla.calendar, at),
    resolve: checkpoint(sla.resolve, sla.calendar, at),
    ...(terms.policy && { policy: terms.policy }),
  };
  let step: SlaStep = { sla: folded, timeline: [] };
  for (const m of SLA_METRICS) {
    if (folded[m].phase === 'met' && !(m === 'resolve' && retargetMetResolve)) continue;
    const from = sla[m].targetSeconds;
    step = update(step, m, 'target_changed', at, (c) => ({ ...c, targetSeconds: targets[m] }), `${from}s → ${targets[m]}s`);
  }
  return step;
}

/** Whether `terms` would change anything on `sla`: its policy (key or version), targets, at-risk percent or calendar. */
export function termsDiffer(sla: TicketSla, terms: SlaTerms): boolean {
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  return (
    !same(sla.policy && [sla.policy.key, sla.policy.version], terms.policy && [terms.policy.key, terms.policy.version]) ||
    sla.assign.targetSeconds !== terms.assignTargetSeconds ||
    sla.resolve.targetSeconds !== terms.resolveTargetSeconds ||
    sla.atRiskPercent !== terms.atRiskPercent ||
    !same(sla.calendar, terms.calendar)
  );
}

/** Record a signal as fired; `due` is when it was due (the breach instant), `at` when it fired. */
export function fireSignal(sla: TicketSla, signal: DueSignal, at: number): SlaStep {
  const field = signal.signal === 'at_risk' ? 'atRiskAt' : 'breachedAt';
  const step = update({ sla, timeline: [] }, signal.metric, signal.signal, signal.at, (c) => ({ ...c, [field]: iso(signal.at) }));
  if (at - signal.at >= 1000) step.timeline[0]!.detail = `recorded ${Math.round((at - signal.at) / 1000)}s late (no worker was running)`;
  return step;
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
  const atRisk = c.phase !== 'met' && elapsed >= thresholdMs(c, 'at_risk', sla.atRiskPercent);
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
