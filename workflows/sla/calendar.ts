/**
 * Business time: which instants count towards an SLA under a business calendar (IANA time zone,
 * weekly hours with several ranges per day, holidays). Pure and deterministic, so the ticket
 * workflow and the API compute the same figures. `null` stands for the 24×7 calendar.
 *
 * Hours are wall-clock times in the calendar's zone; each day's ranges are turned into real
 * instants with Luxon, so a range that spans a DST change counts the real time that passed (a
 * 01:00–03:00 range is one hour long on the spring-forward night and three on the fall-back one).
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
}

/** How far ahead a deadline is searched for before giving up (a calendar with no hours never ends). */
const MAX_DAYS = 3_660;

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/;

/** What is wrong with a calendar's rules, one line per problem (empty when valid). */
export function calendarProblems(rules: BusinessCalendarRules): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  if (!IANAZone.isValidZone(rules.timezone)) problems.push({ path: 'timezone', message: `"${rules.timezone}" is not an IANA time zone (e.g. Europe/Berlin).` });
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

/** The business intervals (epoch ms, half-open) of the local day that starts at `day`. */
function dayIntervals(rules: BusinessCalendarRules, holidays: ReadonlySet<string>, day: DateTime): [number, number][] {
  if (holidays.has(day.toISODate()!)) return [];
  const ranges = rules.weeklyHours[WEEKDAYS[day.weekday - 1]!] ?? [];
  const at = (hhmm: string) => {
    const minutes = minutesOf(hhmm);
    if (minutes === 24 * 60) return day.plus({ days: 1 }).startOf('day').toMillis();
    // a wall time skipped by a DST change resolves to the instant just after the gap
    return DateTime.fromObject({ year: day.year, month: day.month, day: day.day, hour: Math.floor(minutes / 60), minute: minutes % 60 }, { zone: rules.timezone }).toMillis();
  };
  return ranges.map((r) => [at(r.start), at(r.end)] as [number, number]).filter(([s, e]) => e > s);
}

/** Calls `visit` with each business interval from the local day containing `from` on, until it returns true. */
function walk(rules: BusinessCalendarRules, from: number, visit: (start: number, end: number) => boolean): boolean {
  const holidays = new Set(rules.holidays);
  let day = DateTime.fromMillis(from, { zone: rules.timezone }).startOf('day');
  for (let i = 0; i < MAX_DAYS; i++) {
    for (const [start, end] of dayIntervals(rules, holidays, day)) {
      if (end > from && visit(start, end)) return true;
    }
    day = day.plus({ days: 1 }).startOf('day');
  }
  return false;
}

/** Business milliseconds in [from, to). */
export function businessMsBetween(rules: BusinessCalendarRules | null, from: number, to: number): number {
  if (to <= from) return 0;
  if (!rules) return to - from;
  let total = 0;
  walk(rules, from, (start, end) => {
    if (start >= to) return true;
    total += Math.min(end, to) - Math.max(start, from);
    return false;
  });
  return total;
}

/**
 * The instant at which `ms` business milliseconds have passed since `from`: always inside business
 * hours (or at the end of a range) when `ms` > 0. Null if the calendar never gets there.
 */
export function addBusinessMs(rules: BusinessCalendarRules | null, from: number, ms: number): number | null {
  if (ms <= 0) return from;
  if (!rules) return from + ms;
  let remaining = ms;
  let result: number | null = null;
  walk(rules, from, (start, end) => {
    const s = Math.max(start, from);
    if (end - s >= remaining) {
      result = s + remaining;
      return true;
    }
    remaining -= end - s;
    return false;
  });
  return result;
}
