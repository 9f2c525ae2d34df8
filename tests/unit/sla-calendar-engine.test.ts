/**
 * The constant-cost calendar engine against the day-by-day walk it replaced (kept here as the
 * reference): identical instants and durations on random calendars, targets and start instants,
 * in zones with every kind of DST change (one hour, half an hour, two hours, at midnight, twice a
 * year around Ramadan, none at all).
 */
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  addBusinessMs,
  businessMsBetween,
  dayIntervals,
  deadlineReachDays,
  MAX_DAYS,
  MAX_DEADLINE_DAYS,
  WEEKDAYS,
  type BusinessCalendarRules,
  type HoursRange,
} from '../../workflows/sla/calendar.js';

/** The old algorithm: every local day from the one containing `from`, its intervals in order, until `visit` says stop. */
function walk(rules: BusinessCalendarRules, from: number, visit: (start: number, end: number) => boolean): void {
  let day = DateTime.fromMillis(from, { zone: rules.timezone }).startOf('day');
  for (let i = 0; i < MAX_DAYS; i++) {
    for (const [start, end] of dayIntervals(rules, day.toISODate()!)) {
      if (end > from && visit(start, end)) return;
    }
    day = day.plus({ days: 1 }).startOf('day');
  }
}

function referenceBetween(rules: BusinessCalendarRules, from: number, to: number): number {
  if (to <= from) return 0;
  let total = 0;
  walk(rules, from, (start, end) => {
    if (start >= to) return true;
    total += Math.min(end, to) - Math.max(start, from);
    return false;
  });
  return total;
}

function referenceAdd(rules: BusinessCalendarRules, from: number, ms: number): number | null {
  if (ms <= 0) return from;
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

const ZONES = [
  'Europe/Berlin', // 02:00 → 03:00, 03:00 → 02:00
  'America/New_York',
  'America/Havana', // changes at midnight (spring) and 01:00 → 00:00 (autumn: midnight shows twice)
  'America/Santiago', // changes at 24:00
  'Australia/Lord_Howe', // half-hour DST
  'Antarctica/Troll', // two-hour DST
  'Africa/Casablanca', // DST suspended around Ramadan: two changes five weeks apart
  'Asia/Gaza', // Ramadan changes a week apart from 2040 on
  'Pacific/Chatham',
  'America/St_Johns',
  'Asia/Kolkata',
  'UTC',
];

let seed = 20261129;
const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
const hhmm = (minutes: number) =>
  minutes === 1440 ? '24:00' : `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

/** Random weekly hours: boundaries often on the hours DST changes touch (00:00–04:00), sometimes whole days. */
function randomCalendar(): BusinessCalendarRules {
  const weeklyHours: Partial<Record<(typeof WEEKDAYS)[number], HoursRange[]>> = {};
  const days = WEEKDAYS.filter(() => random() < 0.6);
  if (days.length === 0) days.push(pick(WEEKDAYS));
  for (const day of days) {
    if (random() < 0.1) {
      weeklyHours[day] = [{ start: '00:00', end: '24:00' }];
      continue;
    }
    const cuts = new Set<number>();
    const count = 2 * (1 + Math.floor(random() * 3));
    while (cuts.size < count) cuts.add(random() < 0.4 ? Math.floor(random() * 17) * 15 : Math.floor(random() * 97) * 15);
    const sorted = [...cuts].sort((a, b) => a - b);
    const ranges: HoursRange[] = [];
    for (let i = 0; i < sorted.length; i += 2) ranges.push({ start: hhmm(sorted[i]!), end: hhmm(sorted[i + 1]!) });
    weeklyHours[day] = random() < 0.3 ? ranges.reverse() : ranges; // order as given must not matter
  }
  const start = DateTime.fromISO('2026-01-01', { zone: 'UTC' });
  const holidays = Array.from({ length: Math.floor(random() * 40) }, () =>
    start.plus({ days: Math.floor(random() * 16 * 365) }).toISODate()!,
  );
  return { timezone: pick(ZONES), weeklyHours, holidays, ...(random() < 0.7 ? { transitions: 'real-time' as const } : {}) };
}

const H = 3_600_000;
const randomStart = () => Date.parse('2026-01-01T00:00:00Z') + Math.floor(random() * 15 * 365 * 24) * H + Math.floor(random() * H);

describe('the calendar engine against the day-by-day walk', () => {
  it('finds the same deadline for random calendars, starts and targets (minutes to years of business time)', () => {
    for (let i = 0; i < 200; i++) {
      const rules = randomCalendar();
      const from = randomStart();
      const ms = pick([Math.floor(random() * 8 * H), Math.floor(random() * 300 * H), Math.floor(random() * 3000 * H)]) + 1;
      const label = JSON.stringify({ rules, from: new Date(from).toISOString(), ms });
      const expected = referenceAdd(rules, from, ms);
      expect(addBusinessMs(rules, from, ms), label).toBe(expected);
      if (expected !== null) expect(businessMsBetween(rules, from, expected), label).toBe(ms);
    }
  }, 120_000);

  it('counts the same business time between random instants, up to and past the search horizon', () => {
    for (let i = 0; i < 120; i++) {
      const rules = randomCalendar();
      const from = randomStart();
      const span = pick([
        Math.floor(random() * 48 * H),
        Math.floor(random() * 90 * 24 * H),
        Math.floor(random() * 3 * 365 * 24 * H),
        Math.floor(random() * 12 * 365 * 24 * H),
      ]);
      const label = JSON.stringify({ rules, from: new Date(from).toISOString(), span });
      expect(businessMsBetween(rules, from, from + span), label).toBe(referenceBetween(rules, from, from + span));
    }
  }, 120_000);

  it('gives up (null) exactly where the walk does: a calendar whose hours never come within the horizon', () => {
    const rules: BusinessCalendarRules = {
      timezone: 'Europe/Berlin',
      weeklyHours: { mon: [{ start: '09:00', end: '09:01' }] },
      holidays: [],
      transitions: 'real-time',
    };
    const from = Date.parse('2027-01-04T08:00:00Z');
    // 523 Mondays of one minute in 3,660 days
    expect(addBusinessMs(rules, from, 523 * 60_000)).toBe(referenceAdd(rules, from, 523 * 60_000));
    expect(addBusinessMs(rules, from, 523 * 60_000)).not.toBeNull();
    expect(addBusinessMs(rules, from, 524 * 60_000)).toBeNull();
    expect(referenceAdd(rules, from, 524 * 60_000)).toBeNull();
  });
});

describe('range ends inside a DST change count the real time that passed', () => {
  const berlin = (hours: HoursRange): BusinessCalendarRules => ({
    timezone: 'Europe/Berlin',
    weeklyHours: { sun: [hours] },
    holidays: [],
    transitions: 'real-time',
  });
  const sunday = (date: string, rules: BusinessCalendarRules) =>
    businessMsBetween(rules, Date.parse(`${date}T00:00:00Z`) - 2 * H, Date.parse(`${date}T00:00:00Z`) + 24 * H);

  it('spring forward (2027-03-28, 02:00 → 03:00): 01:00–02:30 is one hour, 02:30–04:00 one hour, 02:10–02:50 nothing', () => {
    expect(sunday('2027-03-28', berlin({ start: '01:00', end: '02:30' }))).toBe(1 * H);
    expect(sunday('2027-03-28', berlin({ start: '02:30', end: '04:00' }))).toBe(1 * H);
    expect(sunday('2027-03-28', berlin({ start: '02:10', end: '02:50' }))).toBe(0);
    expect(dayIntervals(berlin({ start: '01:00', end: '02:30' }), '2027-03-28')).toEqual([
      [Date.parse('2027-03-28T00:00:00Z'), Date.parse('2027-03-28T01:00:00Z')],
    ]);
  });

  it('fall back (2027-10-31, 03:00 → 02:00): 02:00–04:00 is three hours; adjacent ranges neither overlap nor leave a gap', () => {
    expect(sunday('2027-10-31', berlin({ start: '02:00', end: '04:00' }))).toBe(3 * H);
    expect(sunday('2027-10-31', berlin({ start: '01:00', end: '02:30' }))).toBe(1.5 * H);
    const split: BusinessCalendarRules = {
      ...berlin({ start: '01:00', end: '02:30' }),
      weeklyHours: {
        sun: [
          { start: '01:00', end: '02:30' },
          { start: '02:30', end: '04:00' },
        ],
      },
    };
    expect(sunday('2027-10-31', split)).toBe(4 * H); // 01:00 CEST to 04:00 CET
  });

  it('clocks started before the rule keep the old resolution (their deadlines never move)', () => {
    const legacy = (hours: HoursRange): BusinessCalendarRules => ({
      timezone: 'Europe/Berlin',
      weeklyHours: { sun: [hours] },
      holidays: [],
    });
    expect(sunday('2027-03-28', legacy({ start: '01:00', end: '02:30' }))).toBe(1.5 * H);
    expect(sunday('2027-10-31', legacy({ start: '02:00', end: '04:00' }))).toBe(2 * H);
  });

  it('a wall time is the first instant the clock reads it or later (checked minute by minute on change days)', () => {
    const cases: [string, string][] = [
      ['Europe/Berlin', '2027-03-28'],
      ['Europe/Berlin', '2027-10-31'],
      ['America/Havana', '2027-03-14'],
      ['America/Havana', '2027-11-07'],
      ['America/Santiago', '2027-04-04'],
      ['America/Santiago', '2027-09-05'],
      ['Australia/Lord_Howe', '2027-04-04'],
      ['Antarctica/Troll', '2027-03-28'],
    ];
    for (const [zone, date] of cases) {
      const dayStart = DateTime.fromISO(date, { zone: 'UTC' }).toMillis();
      const maxOffset = Math.max(...[-2, -1, 0, 1, 2].map((d) => DateTime.fromMillis(dayStart + d * 24 * H, { zone }).offset)) * 60_000;
      // the first minute whose wall clock reads `local` or later (no earlier instant can: offsets are at most maxOffset)
      const brute = (local: number) => {
        for (let t = local - maxOffset - 60_000; ; t += 60_000) {
          const wall = DateTime.fromMillis(t, { zone });
          if (Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute) >= local) return t;
        }
      };
      for (let minutes = 0; minutes < 6 * 60; minutes += 15) {
        const rules: BusinessCalendarRules = {
          timezone: zone,
          weeklyHours: Object.fromEntries(WEEKDAYS.map((d) => [d, [{ start: hhmm(minutes), end: '24:00' }]])),
          holidays: [],
          transitions: 'real-time',
        };
        const [interval] = dayIntervals(rules, date);
        expect(interval?.[0] ?? null, `${zone} ${date} ${hhmm(minutes)}`).toBe(interval ? brute(dayStart + minutes * 60_000) : null);
        if (interval) expect(interval[1], `${zone} ${date} 24:00`).toBe(brute(dayStart + 24 * H));
      }
    }
  });
});

describe('how far a deadline can be (the bound PUT /sla-policies enforces)', () => {
  it('bounds the real deadline from any start, and refuses what the engine would give up on', () => {
    for (let i = 0; i < 150; i++) {
      const rules = randomCalendar();
      const today = '2026-01-01';
      const seconds = 1 + Math.floor(random() * 366 * 24 * 3600);
      const reach = deadlineReachDays(rules, seconds, today);
      const from = randomStart();
      const due = addBusinessMs(rules, from, seconds * 1000);
      if (reach <= MAX_DEADLINE_DAYS) {
        expect(due, JSON.stringify({ rules, seconds, from })).not.toBeNull();
        expect((due! - from) / 86_400_000).toBeLessThanOrEqual(reach);
      }
    }
  }, 120_000);

  it("accepts the issue's office hours with a year-long target, refuses one minute a week", () => {
    const office: BusinessCalendarRules = {
      timezone: 'Europe/Berlin',
      weeklyHours: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, [{ start: '09:00', end: '17:00' }]])),
      holidays: [],
    };
    expect(deadlineReachDays(office, 366 * 24 * 3600, '2026-11-29')).toBeLessThan(5 * 365);
    const minute: BusinessCalendarRules = { ...office, weeklyHours: { mon: [{ start: '09:00', end: '09:01' }] } };
    expect(deadlineReachDays(minute, 366 * 24 * 3600, '2026-11-29')).toBeGreaterThan(MAX_DEADLINE_DAYS);
    expect(deadlineReachDays(minute, 3600, '2026-11-29')).toBeLessThan(MAX_DEADLINE_DAYS);
    expect(deadlineReachDays({ ...office, weeklyHours: {} }, 60, '2026-11-29')).toBe(Infinity);
    // only holidays from today on count
    const closedYears: BusinessCalendarRules = {
      ...office,
      holidays: Array.from({ length: 1000 }, (_, i) => new Date(Date.UTC(2020, 0, 1) + i * 86_400_000).toISOString().slice(0, 10)),
    };
    expect(deadlineReachDays(closedYears, 3600, '2026-11-29')).toBe(deadlineReachDays(office, 3600, '2026-11-29'));
    expect(deadlineReachDays(closedYears, 3600, '2020-01-01')).toBeGreaterThan(deadlineReachDays(office, 3600, '2020-01-01'));
  });
});
