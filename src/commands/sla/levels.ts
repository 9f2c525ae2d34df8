/**
 * A policy's warning levels and pause statuses (issue 21): checked and normalised on write, shown
 * with their defaults filled in, and turned into the clock's terms on read.
 */
import type { SlaPolicy, StoredWarningLevel, StoredWarningLevels } from '../../models/index.js';
import { SLA_METRICS } from '../../../workflows/sla/clock.js';
import {
  DEFAULT_PAUSE_STATUSES,
  levelKey,
  sortLevels,
  type PauseStatuses,
  type WarningLevel,
  type WarningLevels,
} from '../../../workflows/sla/warnings.js';
import { SLA_PAUSABLE_STATUSES } from '../../../workflows/vocabulary.js';

type Metric = (typeof SLA_METRICS)[number];
type PerMetric<T> = Partial<Record<Metric, T[]>>;

/** One refused value, as `validationFailed` lists them. */
export interface Problem {
  in: 'body';
  path: string;
  message: string;
}

const toLevel = (l: StoredWarningLevel): WarningLevel => ('percent' in l ? { percent: l.percent } : { minutesBefore: l.minutes_before });
const toStored = (l: WarningLevel): StoredWarningLevel => ('percent' in l ? { percent: l.percent } : { minutes_before: l.minutesBefore });

/**
 * The levels to store (each metric's in the order they are reached), or null for the default (the
 * single at-risk level), and what is wrong with them: a `minutes_before` level must fall after the
 * start (less than the target), and a level may be given once per metric.
 */
export function normaliseWarningLevels(
  input: PerMetric<StoredWarningLevel> | null | undefined,
  atRiskPercent: number,
  targets: Record<Metric, number>,
): { stored: StoredWarningLevels | null; problems: Problem[] } {
  if (!input) return { stored: null, problems: [] };
  const problems: Problem[] = [];
  const stored = {} as StoredWarningLevels;
  for (const metric of SLA_METRICS) {
    const levels = (input[metric] ?? [{ percent: atRiskPercent }]).map(toLevel);
    const seen = new Set<string>();
    levels.forEach((level, i) => {
      const path = `warning_levels.${metric}.${i}`;
      if (seen.has(levelKey(level))) problems.push({ in: 'body', path, message: `This level is listed twice for ${metric}.` });
      seen.add(levelKey(level));
      if ('minutesBefore' in level && level.minutesBefore * 60 >= targets[metric])
        problems.push({
          in: 'body',
          path: `${path}.minutes_before`,
          message: `${level.minutesBefore} min before the deadline is not after the start: the ${metric} target is ${targets[metric]} s.`,
        });
    });
    stored[metric] = sortLevels(levels, targets[metric]).map(toStored);
  }
  return { stored, problems };
}

/** The statuses to store per metric (`paused` always among them, SPEC §6), or null for the default. */
export function normalisePauseStatuses(input: PerMetric<string> | null | undefined): PauseStatuses | null {
  if (!input) return null;
  const out = {} as PauseStatuses;
  for (const metric of SLA_METRICS) {
    const given = new Set(['paused', ...(input[metric] ?? DEFAULT_PAUSE_STATUSES[metric])]);
    out[metric] = SLA_PAUSABLE_STATUSES.filter((s) => given.has(s));
  }
  return out;
}

/** The levels a policy runs (its own, or the single at-risk level), as the API shows them. */
export function effectiveWarningLevels(p: Pick<SlaPolicy, 'warningLevels' | 'atRiskPercent'>): StoredWarningLevels {
  return p.warningLevels ?? { assign: [{ percent: p.atRiskPercent }], resolve: [{ percent: p.atRiskPercent }] };
}

/** The statuses that stop each clock under a policy. */
export function effectivePauseStatuses(p: Pick<SlaPolicy, 'pauseStatuses'>): PauseStatuses {
  return p.pauseStatuses ?? DEFAULT_PAUSE_STATUSES;
}

/** The clock's copy of a policy's levels and statuses: only those it sets (defaults leave the clock as before). */
export function optionalSlaTerms(p: Pick<SlaPolicy, 'warningLevels' | 'pauseStatuses'>): {
  warningLevels?: WarningLevels;
  pauseStatuses?: PauseStatuses;
} {
  return {
    ...(p.warningLevels
      ? { warningLevels: { assign: p.warningLevels.assign.map(toLevel), resolve: p.warningLevels.resolve.map(toLevel) } }
      : {}),
    ...(p.pauseStatuses ? { pauseStatuses: { assign: [...p.pauseStatuses.assign], resolve: [...p.pauseStatuses.resolve] } } : {}),
  };
}
