/**
 * Warning levels and pause statuses of an SLA clock: pure data the policy sets and the clock
 * carries (copied at start and at a priority change, like the calendar). A level is a percent of
 * the target or a number of minutes before the deadline; each fires once per metric and cycle.
 */
import type { SlaMetric, TicketSla } from './clock.js';

/** One warning: at `percent` of the target, or `minutesBefore` the deadline. */
export type WarningLevel = { percent: number } | { minutesBefore: number };
export type WarningLevels = Record<SlaMetric, WarningLevel[]>;

/** The ticket statuses that stop each metric's clock. */
export type PauseStatuses = Record<SlaMetric, string[]>;

/** `paused` stops both clocks (SPEC §6); waiting on the customer stops resolve but not assign. */
export const DEFAULT_PAUSE_STATUSES: PauseStatuses = { assign: ['paused'], resolve: ['paused', 'waiting_on_customer'] };

/** A level's identity within a cycle: fired levels are remembered by it. */
export function levelKey(level: WarningLevel): string {
  return 'percent' in level ? `percent:${level.percent}` : `minutes_before:${level.minutesBefore}`;
}

/** The business ms of the metric's elapsed time at which the level is reached (never below 0). */
export function levelThresholdMs(level: WarningLevel, targetSeconds: number): number {
  const target = targetSeconds * 1000;
  if ('percent' in level) return Math.floor((target * level.percent) / 100);
  return Math.max(0, target - level.minutesBefore * 60_000);
}

/** The metric's levels: the clock's own, or the single `atRiskPercent` level of clocks started without levels. */
export function warningLevelsOf(sla: Pick<TicketSla, 'warningLevels' | 'atRiskPercent'>, metric: SlaMetric): WarningLevel[] {
  return sla.warningLevels ? sla.warningLevels[metric] : [{ percent: sla.atRiskPercent }];
}

/** When the level fired in the metric's current cycle (its due instant), or null. */
export function firedWarningAt(sla: TicketSla, metric: SlaMetric, level: WarningLevel): string | null {
  const c = sla[metric];
  return c.warnings ? (c.warnings[levelKey(level)] ?? null) : c.atRiskAt;
}

/** Levels in the order they are reached under a target (percent and minutes mixed). */
export function sortLevels(levels: WarningLevel[], targetSeconds: number): WarningLevel[] {
  return [...levels].sort((a, b) => levelThresholdMs(a, targetSeconds) - levelThresholdMs(b, targetSeconds));
}

/** Workflow patch ids: a run adopts levels and pause statuses only past these markers (older histories replay without them). */
export const WARNING_LEVELS_PATCH = 'sla-warning-levels';
export const PAUSE_STATUSES_PATCH = 'sla-pause-statuses';

type Adoptable = { warningLevels?: WarningLevels; pauseStatuses?: PauseStatuses };

/**
 * `terms` (or a clock's own copy of them) without what this run may not adopt: a run whose history
 * was recorded before the patch ignored these fields even when an activity returned them (a worker
 * of the new build ran it), so it must go on ignoring them on replay. The patch is asked only when
 * the field is there, so tickets under default policies record no marker.
 */
export function adoptable<T extends Adoptable>(terms: T, patched: (id: string) => boolean): T {
  const dropLevels = terms.warningLevels !== undefined && !patched(WARNING_LEVELS_PATCH);
  const dropPauses = terms.pauseStatuses !== undefined && !patched(PAUSE_STATUSES_PATCH);
  if (!dropLevels && !dropPauses) return terms;
  const { warningLevels, pauseStatuses, ...rest } = terms;
  const kept = { ...rest, ...(dropLevels ? {} : { warningLevels }), ...(dropPauses ? {} : { pauseStatuses }) } as T;
  if (!dropLevels) return kept;
  // a clock: its per-level record goes with the levels (`atRiskAt` already says whether the first fired)
  for (const metric of ['assign', 'resolve'] as const) {
    const clock = (kept as Record<string, unknown>)[metric] as { warnings?: unknown } | undefined;
    if (clock && typeof clock === 'object' && 'warnings' in clock) {
      const { warnings: _w, ...c } = clock;
      (kept as Record<string, unknown>)[metric] = c;
    }
  }
  return kept;
}
