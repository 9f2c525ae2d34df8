/**
 * Business-calendar deadline arithmetic (workflows/sla/calendar.ts), in process, no services:
 * the cost of one deadline (addBusinessMs), one elapsed-time count (businessMsBetween) and one
 * ticket's SLA figures (what a GET computes per metric) for the largest target each calendar
 * accepts (PUT /sla-policies refuses targets whose deadline could lie beyond MAX_DEADLINE_DAYS),
 * from BENCH_CALENDAR_N (default 2,000) random start instants over 2027–2036. Per-call figures
 * in microseconds: CPU time per call over the batch, wall-clock p50/p99/max after a warm-up, and
 * the first (cold) call; the day-by-day walk the engine replaced is timed on a few starts.
 */
import { DateTime } from 'luxon';
import {
  addBusinessMs,
  businessMsBetween,
  dayIntervals,
  deadlineReachDays,
  MAX_DAYS,
  MAX_DEADLINE_DAYS,
  type BusinessCalendarRules,
} from '../workflows/sla/calendar.js';
import { slaFigures, startSla } from '../workflows/sla/clock.js';
import { percentile, report, round } from './lib/harness.js';

const N = Number(process.env.BENCH_CALENDAR_N ?? 2_000);
const MAX_TARGET_S = 366 * 24 * 3600; // the API's largest target
const weekdays = (ranges: { start: string; end: string }[]) =>
  Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, ranges]));
const yearly = (dates: string[]) => Array.from({ length: 10 }, (_, i) => dates.map((d) => `${2027 + i}-${d}`)).flat();

const CALENDARS: Record<string, BusinessCalendarRules> = {
  // the calendar: Mon–Fri 09:00–17:00 Berlin, with ten years of public holidays
  berlin_office: {
    timezone: 'Europe/Berlin',
    weeklyHours: weekdays([{ start: '09:00', end: '17:00' }]),
    holidays: yearly(['01-01', '05-01', '10-03', '12-24', '12-25', '12-26', '12-31']),
    transitions: 'real-time',
  },
  // one hour a week: the largest accepted target runs right up to the ten-year limit
  one_hour_a_week_berlin: {
    timezone: 'Europe/Berlin',
    weeklyHours: { sun: [{ start: '01:30', end: '02:30' }] },
    holidays: [],
    transitions: 'real-time',
  },
  // two offset changes a year around Ramadan, hours at night
  casablanca_nights: {
    timezone: 'Africa/Casablanca',
    weeklyHours: weekdays([{ start: '00:00', end: '03:00' }]),
    holidays: [],
    transitions: 'real-time',
  },
};

/** The largest target (seconds, ≤ MAX_TARGET_S) PUT /sla-policies accepts with this calendar. */
function largestAccepted(rules: BusinessCalendarRules): number {
  let lo = 0;
  let hi = MAX_TARGET_S;
  while (hi > lo) {
    const mid = Math.ceil((lo + hi) / 2);
    if (deadlineReachDays(rules, mid, '2027-01-01') <= MAX_DEADLINE_DAYS) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The replaced algorithm, for comparison: every local day in turn. */
function walkAdd(rules: BusinessCalendarRules, from: number, ms: number): number | null {
  let remaining = ms;
  let day = DateTime.fromMillis(from, { zone: rules.timezone }).startOf('day');
  for (let i = 0; i < MAX_DAYS; i++) {
    for (const [start, end] of dayIntervals(rules, day.toISODate()!)) {
      if (end <= from) continue;
      const s = Math.max(start, from);
      if (end - s >= remaining) return s + remaining;
      remaining -= end - s;
    }
    day = day.plus({ days: 1 }).startOf('day');
  }
  return null;
}

let seed = 7;
const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
const starts = Array.from({ length: N }, () => Date.parse('2027-01-01T00:00:00Z') + Math.floor(random() * 10 * 365 * 86_400_000));

/** Wall time per call (µs, sorted), the first (cold) call, and CPU time per call over the batch (unaffected by waiting for a core on a loaded machine). */
function time(fn: (from: number) => unknown, froms: number[]) {
  let t0 = performance.now();
  fn(froms[0]!);
  const first = (performance.now() - t0) * 1000;
  for (const from of froms.slice(0, 50)) fn(from); // warm-up
  const cpu = process.cpuUsage();
  const us = froms.map((from) => {
    t0 = performance.now();
    fn(from);
    return (performance.now() - t0) * 1000;
  });
  const used = process.cpuUsage(cpu);
  return { us: us.sort((a, b) => a - b), first, cpuPerCall: (used.user + used.system) / froms.length };
}

const summary = ({ us, first, cpuPerCall }: ReturnType<typeof time>) => ({
  n: us.length,
  cpu_us_per_call: round(cpuPerCall, 1),
  p50_us: round(percentile(us, 50), 1),
  p99_us: round(percentile(us, 99), 1),
  max_us: round(us[us.length - 1]!, 1),
  first_call_us: round(first, 1),
});

for (const [name, rules] of Object.entries(CALENDARS)) {
  const target = largestAccepted(rules);
  const ms = target * 1000;
  const reach = Math.max(...starts.slice(0, 200).map((from) => (addBusinessMs(rules, from, ms)! - from) / 86_400_000));
  report(`calendar_deadline_${name}`, {
    target_seconds: target,
    furthest_deadline_days: round(reach, 1),
    ...summary(time((from) => addBusinessMs(rules, from, ms), starts)),
  });
  report(`calendar_elapsed_${name}`, {
    span_days: round(reach, 1),
    ...summary(time((from) => businessMsBetween(rules, from, from + reach * 86_400_000), starts)),
  });
  const terms = { assignTargetSeconds: target, resolveTargetSeconds: target, atRiskPercent: 80, calendar: { ...rules, id: name, name } };
  report(`calendar_ticket_figures_${name}`, {
    note: 'both metrics of a ticket running for a year, as GET /tickets/{id} presents them',
    ...summary(
      time((from) => {
        const sla = startSla(terms, from, false).sla;
        return [slaFigures(sla, 'assign', from + 365 * 86_400_000), slaFigures(sla, 'resolve', from + 365 * 86_400_000)];
      }, starts),
    ),
  });
  report(`calendar_deadline_day_walk_${name}`, {
    note: 'the replaced algorithm, same target',
    ...summary(time((from) => walkAdd(rules, from, ms), starts.slice(0, 60))),
  });
}
