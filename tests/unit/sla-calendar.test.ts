import { describe, expect, it } from 'vitest';
import { addBusinessMs, businessMsBetween, calendarProblems, type BusinessCalendarRules } from '../../workflows/sla/calendar.js';

const H = 3_600_000;
const t = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

// Berlin office: a lunch break, weekends off, Christmas Day a holiday.
const berlin: BusinessCalendarRules = {
  timezone: 'Europe/Berlin',
  weeklyHours: Object.fromEntries(
    ['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [
      d,
      [
        { start: '09:00', end: '12:00' },
        { start: '13:00', end: '17:00' },
      ],
    ]),
  ),
  holidays: ['2026-12-25'],
};

describe('business calendars', () => {
  it('counts only business hours: inside a range, across lunch, overnight and over a weekend', () => {
    // 2026-11-23 is a Monday; Berlin is UTC+1 in winter
    expect(businessMsBetween(berlin, t('2026-11-23T09:00:00+01:00'), t('2026-11-23T11:00:00+01:00'))).toBe(2 * H);
    expect(businessMsBetween(berlin, t('2026-11-23T11:00:00+01:00'), t('2026-11-23T14:00:00+01:00'))).toBe(2 * H);
    expect(businessMsBetween(berlin, t('2026-11-23T16:00:00+01:00'), t('2026-11-24T10:00:00+01:00'))).toBe(2 * H);
    expect(businessMsBetween(berlin, t('2026-11-27T16:00:00+01:00'), t('2026-11-30T10:00:00+01:00'))).toBe(2 * H);
    expect(businessMsBetween(berlin, t('2026-11-28T10:00:00+01:00'), t('2026-11-29T10:00:00+01:00'))).toBe(0);
  });

  it('lands deadlines inside business hours: after lunch, next morning, after the weekend', () => {
    expect(iso(addBusinessMs(berlin, t('2026-11-23T11:30:00+01:00'), H))).toBe(iso(t('2026-11-23T13:30:00+01:00')));
    expect(iso(addBusinessMs(berlin, t('2026-11-23T16:30:00+01:00'), H))).toBe(iso(t('2026-11-24T09:30:00+01:00')));
    expect(iso(addBusinessMs(berlin, t('2026-11-27T16:30:00+01:00'), H))).toBe(iso(t('2026-11-30T09:30:00+01:00')));
    // created on a Saturday: the first millisecond counts on Monday at 09:00
    expect(iso(addBusinessMs(berlin, t('2026-11-28T12:00:00+01:00'), 1))).toBe('2026-11-30T08:00:00.001Z');
    // a deadline exactly at the end of a range stays there (it does not jump to the next morning)
    expect(iso(addBusinessMs(berlin, t('2026-11-23T16:00:00+01:00'), H))).toBe(iso(t('2026-11-23T17:00:00+01:00')));
  });

  it('skips holidays', () => {
    // Thu 24 Dec 16:30 + 1 h: 30 min on Thursday, Friday 25 is a holiday, the rest on Monday 28
    expect(iso(addBusinessMs(berlin, t('2026-12-24T16:30:00+01:00'), H))).toBe(iso(t('2026-12-28T09:30:00+01:00')));
    expect(businessMsBetween(berlin, t('2026-12-25T00:00:00+01:00'), t('2026-12-26T00:00:00+01:00'))).toBe(0);
  });

  it('counts real time across DST changes in both directions (Europe/Berlin)', () => {
    const sundays: BusinessCalendarRules = {
      timezone: 'Europe/Berlin',
      weeklyHours: { sun: [{ start: '00:00', end: '24:00' }] },
      holidays: [],
    };
    // spring forward on 2026-03-29: the day has 23 hours; fall back on 2026-10-25: 25 hours
    expect(businessMsBetween(sundays, t('2026-03-29T00:00:00+01:00'), t('2026-03-30T00:00:00+02:00'))).toBe(23 * H);
    expect(businessMsBetween(sundays, t('2026-10-25T00:00:00+02:00'), t('2026-10-26T00:00:00+01:00'))).toBe(25 * H);
    const night: BusinessCalendarRules = {
      timezone: 'Europe/Berlin',
      weeklyHours: { sun: [{ start: '01:00', end: '04:00' }] },
      holidays: [],
    };
    expect(businessMsBetween(night, t('2026-03-29T00:00:00+01:00'), t('2026-03-30T00:00:00+02:00'))).toBe(2 * H);
    expect(businessMsBetween(night, t('2026-10-25T00:00:00+02:00'), t('2026-10-26T00:00:00+01:00'))).toBe(4 * H);
    // a deadline 90 minutes into the spring-forward night: 01:00 + 1 h is 03:00 local (02:xx does not exist)
    expect(iso(addBusinessMs(night, t('2026-03-29T01:00:00+01:00'), 1.5 * H))).toBe(iso(t('2026-03-29T03:30:00+02:00')));
  });

  it('keeps wall-clock hours across DST (America/New_York): 09:00 is 14:00Z in winter and 13:00Z in summer', () => {
    const ny: BusinessCalendarRules = {
      timezone: 'America/New_York',
      weeklyHours: { fri: [{ start: '09:00', end: '17:00' }], mon: [{ start: '09:00', end: '17:00' }] },
      holidays: [],
    };
    // Fri 6 Mar 2026 16:00 EST + 2 h → Mon 9 Mar (after the 8 Mar change) 10:00 EDT
    expect(iso(addBusinessMs(ny, t('2026-03-06T16:00:00-05:00'), 2 * H))).toBe('2026-03-09T14:00:00.000Z');
    // Fri 30 Oct 16:00 EDT + 2 h → Mon 2 Nov (after the 1 Nov change) 10:00 EST
    expect(iso(addBusinessMs(ny, t('2026-10-30T16:00:00-04:00'), 2 * H))).toBe('2026-11-02T15:00:00.000Z');
  });

  it('joins ranges across midnight (22:00–24:00 then 00:00–02:00 is one stretch)', () => {
    const nights: BusinessCalendarRules = {
      timezone: 'UTC',
      weeklyHours: { mon: [{ start: '22:00', end: '24:00' }], tue: [{ start: '00:00', end: '02:00' }] },
      holidays: [],
    };
    expect(iso(addBusinessMs(nights, t('2026-11-23T22:30:00Z'), 3 * H))).toBe('2026-11-24T01:30:00.000Z');
    expect(businessMsBetween(nights, t('2026-11-23T00:00:00Z'), t('2026-11-25T00:00:00Z'))).toBe(4 * H);
  });

  it('is consistent: the business time up to addBusinessMs(from, d) is d (random instants and durations)', () => {
    let seed = 42;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 300; i++) {
      const from = t('2026-01-01T00:00:00Z') + Math.floor(random() * 365 * 24 * H);
      const d = Math.floor(random() * 60 * H);
      const due = addBusinessMs(berlin, from, d)!;
      expect(businessMsBetween(berlin, from, due)).toBe(d);
      expect(businessMsBetween(null, from, from + d)).toBe(d);
    }
  });

  it('explains what is wrong with a calendar', () => {
    const paths = (r: Partial<BusinessCalendarRules>) => calendarProblems({ ...berlin, ...r }).map((p) => p.path);
    expect(paths({})).toEqual([]);
    expect(paths({ timezone: 'Mars/Olympus' })).toEqual(['timezone']);
    expect(paths({ weeklyHours: { mon: [{ start: '10:00', end: '09:00' }], tue: [{ start: '09:00', end: '10:00' }] } })).toEqual([
      'weekly_hours.mon.0',
    ]);
    expect(
      paths({
        weeklyHours: {
          mon: [
            { start: '09:00', end: '12:00' },
            { start: '11:00', end: '13:00' },
          ],
        },
      }),
    ).toEqual(['weekly_hours.mon']);
    expect(paths({ weeklyHours: { mon: [{ start: '9:00', end: '25:00' }] } })).toContain('weekly_hours.mon.0');
    expect(paths({ weeklyHours: {} })).toEqual(['weekly_hours']);
    expect(paths({ holidays: ['2026-02-30', 'christmas'] })).toEqual(['holidays.0', 'holidays.1']);
  });
});
