/**
 * Business time: which instants count towards an SLA under a business calendar (IANA time zone,
 * weekly hours with several ranges per day, holidays). Pure and deterministic, so the ticket
 * workflow and the API compute the same figures. `null` stands for the 24×7 calendar.
 *
 * Hours are wall-clock times in the calendar's zone, and a range counts the real time that passes
 * between its ends: a wall time is the first instant the zone's clock reads it or later, so a
 * 01:00–02:30 range is one hour long on the spring-forward night (02:30 never shows: the range
 * ends when the clock jumps to 03:00) and 02:00–04:00 is three hours on the fall-back one.
 *
 * Cost does not grow with the number of days: the engine checks the zone's UTC offset once per
 * window of a few days (a window with one offset is plain arithmetic: business ms per weekday
 * times days, minus the holidays in it, found by binary search), and computes instants day by day
 * only for the first and last day and the days around an offset change.
 */
import { DateTime, IANAZone } from 'luxon';

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** `HH:MM`, 00:00–24:00; `end` may be `24:00` (midnight at the end of the day). */
export interface HoursRange {
  start: string;
  end: string;
}

export interface BusinessCalendarRules {
  timezone: string;
  weeklyHours: Partial<Record<Weekday, HoursRange[]>>;
  /** `YYYY-MM-DD` in the calendar's own zone */
  holidays: string[];
  /**
   * How a range end inside a DST change resolves. 'real-time' (every copy taken since 2026-11-29):
   * the first instant the clock reads it or later. Absent (copies taken before, kept in running
   * tickets' clocks so their deadlines never move on replay): as Luxon resolves it (a skipped time
   * one hour late, a repeated time at its second occurrence).
   */
  transitions?: 'real-time';
}

/** How far ahead (in local days from the start) a deadline is searched for before giving up. */
export const MAX_DAYS = 3_660;

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/;

/** What is wrong with a calendar's rules, one line per problem (empty when valid). */
export function calendarProblems(rules: BusinessCalendarRules): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  if (!IANAZone.isValidZone(rules.timezone))
    problems.push({ path: 'timezone', message: `"${rules.timezone}" is not an IANA time zone (e.g. Europe/Berlin).` });
  let total = 0;
  for (const [day, ranges] of Object.entries(rules.weeklyHours)) {
    if (!(WEEKDAYS as readonly string[]).includes(day)) {
      problems.push({ path: `weekly_hours.${day}`, message: `Days are ${WEEKDAYS.join(', ')}.` });
      continue;
    }
    const minutes = (ranges ?? []).map((r, i) => {
      if (!HHMM.test(r.start) || !HHMM.test(r.end)) {
        problems.push({ path: `weekly_hours.${day}.${i}`, message: 'Times are HH:MM between 00:00 and 24:00.' });
        return null;
      }
      const [start, end] = [minutesOf(r.start), minutesOf(r.end)];
      if (end <= start) problems.push({ path: `weekly_hours.${day}.${i}`, message: 'A range must end after it starts.' });
      return [start, end] as const;
    });
    const sorted = minutes.filter((m): m is readonly [number, number] => m !== null).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i]![0] < sorted[i - 1]![1]) problems.push({ path: `weekly_hours.${day}`, message: 'Ranges of one day must not overlap.' });
    }
    total += sorted.reduce((sum, [s, e]) => sum + Math.max(0, e - s), 0);
  }
  if (total === 0) problems.push({ path: 'weekly_hours', message: 'A calendar needs some business hours, or deadlines would never come.' });
  rules.holidays.forEach((h, i) => {
    if (!DateTime.fromISO(h, { zone: 'UTC' }).isValid || !/^\d{4}-\d{2}-\d{2}$/.test(h)) {
      problems.push({ path: `holidays.${i}`, message: 'Holidays are dates as YYYY-MM-DD.' });
    }
  });
  return problems;
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** Days between two offset probes when a zone's year is charted (no zone changes twice within six days; the closest pair in tzdata is a week, Asia/Gaza). */
const PROBE_DAYS = 3;

/** A zone's UTC offsets (minutes) over one UTC year: at its start, then each change as [instant, offset after]. */
interface YearChart {
  start: number;
  changes: [number, number][];
}

/**
 * Charts of (zone, year), kept for the life of the process. Each is a pure function of the zone
 * rules the runtime ships (what Luxon and Intl read anyway), so a replay computes the same
 * figures whether it finds one here or charts it again: nothing about time or history is kept.
 */
const charts = new Map<string, YearChart>();
const formatters = new Map<string, Intl.DateTimeFormat | null>();

/** The UTC offset (minutes) the runtime gives for a zone at an instant; null for a zone it does not know. */
function intlOffset(zone: string): ((epochMs: number) => number) | null {
  let f = formatters.get(zone);
  if (f === undefined) {
    try {
      f = IANAZone.isValidZone(zone)
        ? new Intl.DateTimeFormat('en-US', {
            timeZone: zone,
            hourCycle: 'h23',
            year: 'numeric',
            month: 'numeric',
            day: 'numeric',
            hour: 'numeric',
            minute: 'numeric',
          })
        : null;
    } catch {
      f = null;
    }
    if (formatters.size < 1000) formatters.set(zone, f);
  }
  if (!f) return null;
  return (epochMs) => {
    const [mo, d, y, h, mi] = f.format(epochMs).match(/\d+/g)!.map(Number);
    return (Date.UTC(y!, mo! - 1, d!, h!, mi!) - (epochMs - (((epochMs % MINUTE) + MINUTE) % MINUTE))) / MINUTE;
  };
}

/** Probe the year every PROBE_DAYS days and pin each change to its second. */
function chartYear(offset: (epochMs: number) => number, year: number): YearChart {
  const from = Date.UTC(year, 0, 1);
  const to = Date.UTC(year + 1, 0, 1);
  const chart: YearChart = { start: offset(from), changes: [] };
  let at = from;
  let o = chart.start;
  while (at < to) {
    const next = Math.min(at + PROBE_DAYS * DAY, to);
    const o2 = offset(next);
    if (o2 !== o) {
      let lo = at / 1000;
      let hi = next / 1000;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (offset(mid * 1000) === o) lo = mid;
        else hi = mid;
      }
      chart.changes.push([hi * 1000, o2]);
    }
    at = next;
    o = o2;
  }
  return chart;
}

function chartOf(zone: string, offset: (epochMs: number) => number, year: number): YearChart {
  const key = `${zone}|${year}`;
  let chart = charts.get(key);
  if (!chart) {
    chart = chartYear(offset, year);
    if (charts.size >= 20_000) charts.clear();
    charts.set(key, chart);
  }
  return chart;
}

/** The calendar in the form the engine reads: per weekday (0 = Monday) sorted ranges in minutes, holidays as sorted local day numbers. */
interface Compiled {
  rules: BusinessCalendarRules;
  /** UTC offset in minutes at an instant (null: the zone is unknown here, so nothing counts) */
  offset: ((epochMs: number) => number) | null;
  /** the first offset change after an instant, as [instant, offset after], if it comes by `limit` */
  nextChange: (after: number, limit: number) => [number, number] | null;
  ranges: [number, number][][];
  dayMs: number[];
  weekMs: number;
  holidays: number[];
  /** holidayMs[i]: business ms the first i holidays would have had */
  holidayMs: number[];
  holidaySet: Set<number>;
}

/** Local day number (days since 1970-01-01 in the calendar's wall clock) → weekday index, 0 = Monday. */
const weekdayOf = (day: number) => (((day + 3) % 7) + 7) % 7;
const dayNumberOf = (isoDate: string) => Date.parse(`${isoDate}T00:00:00Z`) / DAY;

function compile(rules: BusinessCalendarRules): Compiled {
  const intl = intlOffset(rules.timezone);
  const zone = rules.timezone;
  const yearOf = (epochMs: number) => new Date(epochMs).getUTCFullYear();
  const offset = intl
    ? (epochMs: number) => {
        const chart = chartOf(zone, intl, yearOf(epochMs));
        let o = chart.start;
        for (const [at, after] of chart.changes) if (at <= epochMs) o = after;
        return o;
      }
    : null;
  const nextChange = (after: number, limit: number): [number, number] | null => {
    if (!intl) return null;
    for (let year = yearOf(after); Date.UTC(year, 0, 1) <= limit; year++) {
      const change = chartOf(zone, intl, year).changes.find(([at]) => at > after);
      if (change) return change[0] <= limit ? change : null;
    }
    return null;
  };
  const ranges = WEEKDAYS.map((day) =>
    (rules.weeklyHours[day] ?? [])
      .map((r) => [minutesOf(r.start), minutesOf(r.end)] as [number, number])
      .filter(([s, e]) => e > s)
      .sort((a, b) => a[0] - b[0]),
  );
  const dayMs = ranges.map((rs) => rs.reduce((sum, [s, e]) => sum + (e - s) * MINUTE, 0));
  const holidays = [...new Set(rules.holidays.map(dayNumberOf).filter((n) => Number.isInteger(n)))].sort((a, b) => a - b);
  const holidayMs = [0];
  for (const h of holidays) holidayMs.push(holidayMs[holidayMs.length - 1]! + dayMs[weekdayOf(h)]!);
  return {
    rules,
    offset,
    nextChange,
    ranges,
    dayMs,
    weekMs: dayMs.reduce((a, b) => a + b, 0),
    holidays,
    holidayMs,
    holidaySet: new Set(holidays),
  };
}

/** Index of the first holiday ≥ day. */
function holidayIndex(c: Compiled, day: number): number {
  let lo = 0;
  let hi = c.holidays.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (c.holidays[mid]! < day) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Business ms of the local days [from, to) by the weekly hours, without DST: whole weeks, then days, minus holidays. */
function plainMs(c: Compiled, from: number, to: number): number {
  if (to <= from) return 0;
  const days = to - from;
  let ms = Math.floor(days / 7) * c.weekMs;
  for (let d = from + days - (days % 7); d < to; d++) ms += c.dayMs[weekdayOf(d)]!;
  return ms - (c.holidayMs[holidayIndex(c, to)]! - c.holidayMs[holidayIndex(c, from)]!);
}

/**
 * The instant a wall time resolves to. `local` is the wall time as if it were UTC; `before` and
 * `after` are the zone's offsets a while before and after it (equal unless it changes near here).
 */
function wallInstant(c: Compiled, local: number, before: number, after: number): number {
  const offset = c.offset!;
  if (before === after && offset(local - before * MINUTE) === before) return local - before * MINUTE;
  let first = Infinity;
  for (const o of [before, after]) {
    const t = local - o * MINUTE;
    if (offset(t) === o && t < first) first = t;
  }
  if (first !== Infinity) return first;
  // skipped by the change: the instant the clock jumps past it (a whole second, as in tzdata)
  let lo = Math.floor((local - Math.max(before, after) * MINUTE) / 1000);
  let hi = Math.ceil((local - Math.min(before, after) * MINUTE) / 1000);
  const late = offset(hi * 1000);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offset(mid * 1000) === late) hi = mid;
    else lo = mid;
  }
  return hi * 1000;
}

/** The business intervals (epoch ms, half-open, in order) of local day `day`, each instant resolved on its own. */
function exactDay(c: Compiled, day: number): [number, number][] {
  if (!c.offset || c.holidaySet.has(day)) return [];
  const ranges = c.ranges[weekdayOf(day)]!;
  if (ranges.length === 0) return [];
  const midnight = day * DAY;
  let at: (minutes: number) => number;
  if (c.rules.transitions === 'real-time') {
    const before = c.offset(midnight - DAY);
    const after = c.offset(midnight + 2 * DAY);
    at = (minutes) => wallInstant(c, midnight + minutes * MINUTE, before, after);
  } else {
    const date = new Date(midnight);
    const start = DateTime.fromObject(
      { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() },
      { zone: c.rules.timezone },
    );
    at = (minutes) =>
      minutes === 24 * 60
        ? start.plus({ days: 1 }).startOf('day').toMillis()
        : DateTime.fromObject(
            { year: start.year, month: start.month, day: start.day, hour: Math.floor(minutes / 60), minute: minutes % 60 },
            { zone: c.rules.timezone },
          ).toMillis();
  }
  return ranges.map(([s, e]) => [at(s), at(e)] as [number, number]).filter(([s, e]) => e > s);
}

/** The business intervals of local day `day` when the offset is `o` all day long. */
function plainDay(c: Compiled, day: number, o: number): [number, number][] {
  if (c.holidaySet.has(day)) return [];
  const base = day * DAY - o * MINUTE;
  return c.ranges[weekdayOf(day)]!.map(([s, e]) => [base + s * MINUTE, base + e * MINUTE] as [number, number]);
}

/** The business intervals of a local day, in date form (the reference walk in the unit tests uses it). */
export function dayIntervals(rules: BusinessCalendarRules, isoDate: string): [number, number][] {
  return exactDay(compile(rules), dayNumberOf(isoDate));
}

/** A stretch of local days [from, to) with one UTC offset all along, or a single day resolved instant by instant. */
type Span = { kind: 'plain'; from: number; to: number; offset: number } | { kind: 'exact'; day: number };

/**
 * The days [from, to) as spans, in order: between two offset changes one plain span (however
 * many weeks); the day of each change and the days either side of it, exactly.
 */
function* spans(c: Compiled, from: number, to: number): Generator<Span> {
  let n = from;
  while (n < to) {
    const earliest = n * DAY - 15 * HOUR; // before day n's midnight in any zone
    const o = c.offset!(earliest);
    const change = c.nextChange(earliest, to * DAY + DAY);
    if (!change) {
      yield { kind: 'plain', from: n, to, offset: o };
      return;
    }
    const [at, after] = change;
    const firstTouched = Math.floor((at + Math.min(o, after) * MINUTE) / DAY) - 1;
    const lastTouched = Math.floor((at + Math.max(o, after) * MINUTE) / DAY) + 1;
    if (firstTouched > n) yield { kind: 'plain', from: n, to: Math.min(firstTouched, to), offset: o };
    for (let d = Math.max(n, firstTouched); d <= lastTouched && d < to; d++) yield { kind: 'exact', day: d };
    n = Math.max(n, lastTouched + 1);
  }
}

/** The local day number containing an instant. */
const localDay = (c: Compiled, epochMs: number) => Math.floor((epochMs + c.offset!(epochMs) * MINUTE) / DAY);

/** Business milliseconds in [from, to). */
export function businessMsBetween(rules: BusinessCalendarRules | null, from: number, to: number): number {
  if (to <= from) return 0;
  if (!rules) return to - from;
  const c = compile(rules);
  if (!c.offset) return 0;
  const first = localDay(c, from);
  const last = Math.min(localDay(c, to), first + MAX_DAYS - 1);
  const overlap = (intervals: [number, number][]) =>
    intervals.reduce((sum, [s, e]) => sum + Math.max(0, Math.min(e, to) - Math.max(s, from)), 0);
  let total = overlap(exactDay(c, first));
  if (last === first) return total;
  for (const span of spans(c, first + 1, last)) {
    total += span.kind === 'plain' ? plainMs(c, span.from, span.to) : overlap(exactDay(c, span.day));
  }
  return total + overlap(exactDay(c, last));
}

/**
 * The instant at which `ms` business milliseconds have passed since `from`: always inside business
 * hours (or at the end of a range) when `ms` > 0. Null if the calendar does not get there within
 * MAX_DAYS local days.
 */
export function addBusinessMs(rules: BusinessCalendarRules | null, from: number, ms: number): number | null {
  if (ms <= 0) return from;
  if (!rules) return from + ms;
  const c = compile(rules);
  if (!c.offset) return null;
  let remaining = ms;
  /** the deadline if it falls in these intervals; otherwise counts them off */
  const consume = (intervals: [number, number][]): number | null => {
    for (const [start, end] of intervals) {
      if (end <= from) continue;
      const s = Math.max(start, from);
      if (end - s >= remaining) return s + remaining;
      remaining -= end - s;
    }
    return null;
  };
  const first = localDay(c, from);
  const found = consume(exactDay(c, first));
  if (found !== null) return found;
  for (const span of spans(c, first + 1, first + MAX_DAYS)) {
    if (span.kind === 'exact') {
      const at = consume(exactDay(c, span.day));
      if (at !== null) return at;
      continue;
    }
    const whole = plainMs(c, span.from, span.to);
    if (whole < remaining) {
      remaining -= whole;
      continue;
    }
    // inside this span: the most whole weeks that stay short of it (binary search), then days
    let day = span.from;
    let lo = 0;
    let hi = Math.floor((span.to - day) / 7);
    while (hi > lo) {
      const mid = Math.ceil((lo + hi) / 2);
      if (plainMs(c, day, day + 7 * mid) < remaining) lo = mid;
      else hi = mid - 1;
    }
    remaining -= plainMs(c, day, day + 7 * lo);
    day += 7 * lo;
    for (; day < span.to; day++) {
      const at = consume(plainDay(c, day, span.offset));
      if (at !== null) return at;
    }
  }
  return null;
}

/** The furthest (in days of wall time) a deadline may lie from its start for a policy to be accepted: ten years, inside MAX_DAYS. */
export const MAX_DEADLINE_DAYS = 3_650;
/** What a spring-forward change inside business hours can take away, per year (two hours: the largest change in tzdata, Antarctica/Troll). */
const DST_LOSS_PER_YEAR_MS = 2 * HOUR;

/**
 * An upper bound on the days of wall time between any start (on or after `today`, YYYY-MM-DD)
 * and its deadline `targetSeconds` of business time later: the business time of 7 days is the
 * weekly hours wherever they start, so k weeks and a day hold the target once k weekly totals
 * cover it plus every holiday on or after `today` and a spring-forward a year (at most two hours,
 * and no more than two days' hours). Infinity when the
 * calendar has no hours.
 */
export function deadlineReachDays(rules: BusinessCalendarRules, targetSeconds: number, today: string): number {
  const c = compile(rules);
  if (c.weekMs === 0) return Infinity;
  const lost = c.holidayMs[c.holidays.length]! - c.holidayMs[holidayIndex(c, dayNumberOf(today))]!;
  // a change takes at most its own size, and only from the hours of the day or two it falls on
  const dst = Math.ceil(MAX_DEADLINE_DAYS / 365) * Math.min(DST_LOSS_PER_YEAR_MS, 2 * Math.max(...c.dayMs));
  return 7 * Math.ceil((targetSeconds * 1000 + lost + dst) / c.weekMs) + 1;
}
