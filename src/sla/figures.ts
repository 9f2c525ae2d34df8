/**
 * Per-metric SLA figures for a response, on a 24×7 clock with paused time excluded. Pure: the
 * caller passes `now`. (Business calendars and the workflow's timers come with the SLA engine.)
 */
export type SlaMetricState = 'running' | 'paused' | 'met' | 'breached';

export interface SlaMetricInput {
  targetSeconds: number | null;
  startedAt: Date;
  /** when the metric stopped counting: first assignment (assign) or resolution (resolve) */
  stoppedAt: Date | null;
  breachedAt: Date | null;
  /** paused seconds already accumulated */
  pausedSeconds: number;
  /** start of the current pause, if the ticket is paused now */
  pausedSince: Date | null;
  atRiskPercent: number;
}

export interface SlaMetricFigures {
  target_seconds: number | null;
  elapsed_seconds: number;
  remaining_seconds: number | null;
  due_at: string | null;
  state: SlaMetricState;
  at_risk: boolean;
  breached_at: string | null;
}

export function slaFigures(m: SlaMetricInput, now: Date): SlaMetricFigures {
  const end = m.stoppedAt ?? now;
  const currentPause = m.pausedSince && !m.stoppedAt ? Math.max(0, (end.getTime() - m.pausedSince.getTime()) / 1000) : 0;
  const paused = m.pausedSeconds + currentPause;
  const elapsed = Math.max(0, Math.floor((end.getTime() - m.startedAt.getTime()) / 1000 - paused));
  const target = m.targetSeconds;
  const breached = m.breachedAt !== null || (target !== null && elapsed >= target);
  let state: SlaMetricState;
  if (breached) state = 'breached';
  else if (m.stoppedAt) state = 'met';
  else if (m.pausedSince) state = 'paused';
  else state = 'running';
  const breachedAt = m.breachedAt ?? (breached && target !== null ? new Date(m.startedAt.getTime() + (target + paused) * 1000) : null);
  return {
    target_seconds: target,
    elapsed_seconds: elapsed,
    remaining_seconds: target === null ? null : Math.max(0, target - elapsed),
    // while paused the deadline is unknown: it moves with the pause
    due_at: target === null || state === 'paused' ? null : new Date(m.startedAt.getTime() + (target + paused) * 1000).toISOString(),
    state,
    at_risk: target !== null && !m.stoppedAt && elapsed >= (target * m.atRiskPercent) / 100,
    breached_at: breachedAt ? breachedAt.toISOString() : null,
  };
}
