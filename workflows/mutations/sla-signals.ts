/**
 * SLA signals that fell due: per metric, one version that records each at-risk or breach signal
 * (breach columns, an audit entry and an event each). Not a request: the workflow's timer asks.
 */
import { dueSignals, fireSignal, type DueSignal, type SlaMetric, type SlaTimelineEntry, type TicketSla } from '../sla/clock.js';
import type { TicketSnapshot } from '../ticket-state.js';
import { nextVersion, type Plan } from './plan.js';

/**
 * A warning's level as events and audit entries name it (snake_case: API output): only on clocks
 * with warning levels (single-level clocks write exactly what they always wrote); none on a breach.
 */
const levelOf = (sla: TicketSla, d: DueSignal) =>
  sla.warningLevels && d.level
    ? { level: 'percent' in d.level ? { percent: d.level.percent } : { minutes_before: d.level.minutesBefore } }
    : {};

/**
 * The next version recording `metric`'s signals due at `now` (epoch ms), or null when none is:
 * call again until null (each call takes the next signals in order).
 */
export function planSlaSignals(s: TicketSnapshot, metric: SlaMetric, now: number): Plan | null {
  if (!s.sla || s.deleted) return null;
  // One version records each signal type once (audit entries and events are keyed by version and
  // type): several warning levels due together take a version each, in order, the breach joining
  // the last. A single-level clock's at-risk and breach still share one version, as they always did.
  const all = dueSignals(s.sla, now).filter((d) => d.metric === metric);
  const due: DueSignal[] = [];
  for (const d of all) {
    if (due.some((x) => x.signal === d.signal)) break;
    due.push(d);
  }
  if (due.length === 0) return null;
  let sla: TicketSla = s.sla;
  const timeline: SlaTimelineEntry[] = [];
  for (const signal of due) {
    const step = fireSignal(sla, signal, now);
    sla = step.sla;
    timeline.push(...step.timeline);
  }
  const cycle = sla[metric].cycle;
  return {
    next: nextVersion(s, { sla }),
    audit: due.map((d) => ({
      action: `sla_${d.signal}`,
      field: `sla.${metric}`,
      old: null,
      new: { due_at: new Date(d.at).toISOString(), cycle, ...levelOf(s.sla!, d) },
    })),
    events: due.map((d) => ({
      type: `ticket.sla_${d.signal}`,
      changes: {},
      data: {
        sla: {
          metric,
          signal: d.signal,
          due_at: new Date(d.at).toISOString(),
          cycle,
          target_seconds: sla[metric].targetSeconds,
          ...levelOf(s.sla!, d),
        },
      },
    })),
    timeline,
  };
}
