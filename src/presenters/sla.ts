/** SLA policies, business calendars and a ticket's live SLA view → JSON. */
import type { BusinessCalendar, SlaPolicy, Ticket } from '../models/index.js';
import type { SlaView } from '../../workflows/definitions.js';
import {
  DEFAULT_PAUSE_STATUSES,
  SLA_METRICS,
  slaFigures,
  warningInstant,
  type SlaMetric,
  type TicketSla,
} from '../../workflows/sla/clock.js';
import { firedWarningAt, warningLevelsOf } from '../../workflows/sla/warnings.js';
import { effectivePauseStatuses, effectiveWarningLevels } from '../commands/sla/levels.js';
import type { BreachRecord } from '../commands/sla/preview.js';
import { presentSlaPolicyRef } from './ticket.js';

export function presentSlaPolicy(p: SlaPolicy) {
  return {
    priority: p.priority,
    assign_target_seconds: p.assignTargetSeconds,
    resolve_target_seconds: p.resolveTargetSeconds,
    at_risk_percent: p.atRiskPercent,
    calendar_id: p.calendarId,
    version: p.version,
    warning_levels: effectiveWarningLevels(p),
    pause_statuses: effectivePauseStatuses(p),
    updated_at: p.updatedAt.toISOString(),
  };
}

export function presentCalendar(c: BusinessCalendar) {
  return {
    id: c.id,
    name: c.name,
    timezone: c.timezone,
    weekly_hours: c.weeklyHours,
    holidays: c.holidays,
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
  };
}

/** Each warning level of a metric: fired (when it was due) or, while the clock runs, when it will be. */
function warningStates(sla: TicketSla, metric: SlaMetric) {
  const iso = (epochMs: number | null) => (epochMs === null ? null : new Date(epochMs).toISOString());
  return warningLevelsOf(sla, metric).map((level) => {
    const firedAt = firedWarningAt(sla, metric, level);
    return {
      level: 'percent' in level ? { percent: level.percent } : { minutes_before: level.minutesBefore },
      fired_at: firedAt,
      due_at: firedAt ?? iso(warningInstant(sla, metric, level)),
    };
  });
}

/** The live clocks from the workflow, with figures at `now`, the timeline that explains them and every breach per cycle. */
export function presentTicketSla(t: Ticket, view: SlaView, source: 'workflow' | 'database', now: Date, breaches: BreachRecord[] = []) {
  const { sla } = view;
  return {
    ticket_id: t.id,
    ticket_number: t.ticketNumber,
    computed_at: now.toISOString(),
    source,
    at_risk_percent: sla.atRiskPercent,
    calendar: sla.calendar ? { id: sla.calendar.id, name: sla.calendar.name, timezone: sla.calendar.timezone } : null,
    policy: presentSlaPolicyRef(sla.policy),
    warning_levels: Object.fromEntries(SLA_METRICS.map((m) => [m, warningStates(sla, m)])) as Record<
      SlaMetric,
      ReturnType<typeof warningStates>
    >,
    pause_statuses: sla.pauseStatuses ?? DEFAULT_PAUSE_STATUSES,
    assign: slaFigures(sla, 'assign', now.getTime()),
    resolve: slaFigures(sla, 'resolve', now.getTime()),
    timeline: view.timeline.map((e) => ({
      at: e.at,
      metric: e.metric,
      kind: e.kind,
      elapsed_seconds: e.elapsedSeconds,
      target_seconds: e.targetSeconds,
      ...(e.detail !== undefined ? { detail: e.detail } : {}),
    })),
    timeline_truncated: view.timelineDropped,
    breaches,
  };
}
