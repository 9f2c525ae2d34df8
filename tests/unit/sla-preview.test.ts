import { describe, expect, it } from 'vitest';
import { breachHistory, previewProblems, previewSla, replayTicket, type TicketHistory } from '../../src/commands/sla/preview.js';
import type { SlaTerms } from '../../workflows/sla/clock.js';

const t0 = Date.parse('2026-11-23T09:00:00Z');
const at = (s: number) => t0 + s * 1000;
const isoAt = (s: number) => new Date(at(s)).toISOString();
const terms = (assign: number, resolve: number, atRiskPercent = 80): SlaTerms => ({
  assignTargetSeconds: assign,
  resolveTargetSeconds: resolve,
  atRiskPercent,
  calendar: null,
});

const berlin = (holidays: string[] = []): SlaTerms['calendar'] => ({
  id: 'cal',
  name: 'Berlin office',
  timezone: 'Europe/Berlin',
  weeklyHours: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, [{ start: '09:00', end: '17:00' }]])),
  holidays,
  transitions: 'real-time',
});

describe('SLA preview (the workflow clock, nobody acting)', () => {
  it('24×7: at-risk at 80 %, breach at 100 %, and a timeline that explains both', () => {
    const p = previewSla(terms(100, 1000), t0, []);
    expect(p.assign).toMatchObject({ due_at: isoAt(100), at_risk_at: isoAt(80), business_seconds: 100, wall_seconds: 100 });
    expect(p.resolve).toMatchObject({ due_at: isoAt(1000), at_risk_at: isoAt(800), wall_seconds: 1000 });
    expect(p.assign.signals).toEqual([
      { signal: 'at_risk', at: isoAt(80) },
      { signal: 'breached', at: isoAt(100) },
    ]);
    expect(p.timeline.map((e) => [e.metric, e.kind, e.at])).toEqual([
      ['assign', 'started', isoAt(0)],
      ['resolve', 'started', isoAt(0)],
      ['assign', 'at_risk', isoAt(80)],
      ['assign', 'breached', isoAt(100)],
      ['resolve', 'at_risk', isoAt(800)],
      ['resolve', 'breached', isoAt(1000)],
    ]);
  });

  it('pauses push every deadline by the paused time, and signals due before a pause fire before it', () => {
    const p = previewSla(terms(100, 1000), t0, [
      { from: at(90), to: at(190) },
      { from: at(500), to: at(600) },
    ]);
    expect(p.assign).toMatchObject({ at_risk_at: isoAt(80), due_at: isoAt(200), business_seconds: 100, wall_seconds: 200 });
    expect(p.resolve).toMatchObject({ at_risk_at: isoAt(1000), due_at: isoAt(1200) });
    const kinds = p.timeline.map((e) => `${e.metric}:${e.kind}@${(Date.parse(e.at) - t0) / 1000}`);
    expect(kinds.indexOf('assign:at_risk@80')).toBeLessThan(kinds.indexOf('assign:paused@90'));
    expect(kinds).toContain('resolve:resumed@600');
    expect(p.timeline.find((e) => e.metric === 'assign' && e.kind === 'paused')?.elapsedSeconds).toBe(90);
  });

  it('business calendar across the autumn DST change: Friday 16:00 CEST + 2 h = Monday 10:00 CET', () => {
    // Europe/Berlin leaves summer time on Sunday 2026-10-25: Friday is UTC+2, Monday UTC+1
    const start = Date.parse('2026-10-23T14:00:00Z');
    const p = previewSla({ ...terms(7200, 3 * 8 * 3600), calendar: berlin() }, start, []);
    expect(p.assign).toMatchObject({
      due_at: '2026-10-26T09:00:00.000Z',
      at_risk_at: '2026-10-26T08:36:00.000Z', // 96 minutes: 60 on Friday, 36 on Monday
      business_seconds: 7200,
      wall_seconds: 67 * 3600,
    });
    expect(p.resolve.due_at).toBe('2026-10-28T15:00:00.000Z'); // 1 h Fri + Mon, Tue full + 7 h Wed
    expect(p.timeline[0]).toMatchObject({ kind: 'started', detail: 'calendar Berlin office' });
  });

  it('holidays and a pause over closed hours: the holiday moves the deadline, the weekend pause does not', () => {
    const start = Date.parse('2026-10-23T14:00:00Z');
    const holiday = previewSla({ ...terms(7200, 86_400), calendar: berlin(['2026-10-26']) }, start, []);
    expect(holiday.assign.due_at).toBe('2026-10-27T09:00:00.000Z');
    const weekendPause = previewSla({ ...terms(7200, 86_400), calendar: berlin() }, start, [
      { from: Date.parse('2026-10-24T08:00:00Z'), to: Date.parse('2026-10-25T20:00:00Z') },
    ]);
    expect(weekendPause.assign.due_at).toBe('2026-10-26T09:00:00.000Z');
  });

  it('spring-forward: a business day of 01:00–05:00 that loses an hour counts real time', () => {
    const night: SlaTerms['calendar'] = {
      ...berlin()!,
      weeklyHours: { sun: [{ start: '01:00', end: '05:00' }] },
    };
    // 2026-03-29 Berlin: 02:00 CET → 03:00 CEST; 01:00 CET = 00:00Z, 05:00 CEST = 03:00Z (3 real hours)
    const p = previewSla({ ...terms(3 * 3600, 4 * 3600), calendar: night }, Date.parse('2026-03-29T00:00:00Z'), []);
    expect(p.assign.due_at).toBe('2026-03-29T03:00:00.000Z');
    // the fourth hour comes from the next Sunday, 01:00–02:00 CEST = 23:00Z–00:00Z
    expect(p.resolve.due_at).toBe('2026-04-05T00:00:00.000Z');
  });

  it('warning levels of the terms: each fires once, in order, named; the single-level shape is unchanged', () => {
    const levels = { assign: [{ percent: 50 }, { minutesBefore: 1 }], resolve: [] };
    const p = previewSla({ ...terms(600, 1000), warningLevels: levels }, t0, []);
    expect(p.assign.signals).toEqual([
      { signal: 'at_risk', at: isoAt(300), level: '50%' },
      { signal: 'at_risk', at: isoAt(540), level: '1 min before' },
      { signal: 'breached', at: isoAt(600) },
    ]);
    expect(p.assign.at_risk_at).toBe(isoAt(300)); // the first warning
    expect(p.resolve.signals).toEqual([{ signal: 'breached', at: isoAt(1000) }]); // [] = no warning
    expect(p.resolve.at_risk_at).toBeNull();
  });

  it('a pause in waiting_on_customer stops resolve but not assign (default pause statuses), or both when the terms say so', () => {
    const waiting = [{ from: at(100), to: at(400), status: 'waiting_on_customer' }];
    const p = previewSla(terms(200, 1000), t0, waiting);
    expect(p.assign.due_at).toBe(isoAt(200)); // kept running, and breached during the wait
    expect(p.resolve.due_at).toBe(isoAt(1300)); // 300 s of waiting added
    const kinds = p.timeline.map((e) => `${e.metric}:${e.kind}@${(Date.parse(e.at) - t0) / 1000}`);
    expect(kinds).toEqual(expect.arrayContaining(['resolve:paused@100', 'assign:breached@200', 'resolve:resumed@400']));
    expect(kinds.some((k) => k.startsWith('assign:paused'))).toBe(false);
    const both = { assign: ['paused', 'waiting_on_customer'], resolve: ['paused', 'waiting_on_customer'] };
    const q = previewSla({ ...terms(200, 1000), pauseStatuses: both }, t0, waiting);
    expect([q.assign.due_at, q.resolve.due_at]).toEqual([isoAt(500), isoAt(1300)]);
    // and a plain pause still stops both
    expect(previewSla(terms(200, 1000), t0, [{ from: at(100), to: at(400) }]).assign.due_at).toBe(isoAt(500));
  });

  it('rejects pauses that end before they start, start before the SLA, or overlap', () => {
    expect(
      previewProblems(t0, [
        { from: at(10), to: at(20) },
        { from: at(20), to: at(30) },
      ]),
    ).toEqual([]);
    expect(previewProblems(t0, [{ from: at(20), to: at(10) }])).toEqual([{ path: 'pauses.0.to', message: expect.any(String) }]);
    expect(previewProblems(t0, [{ from: at(-5), to: at(10) }])).toEqual([{ path: 'pauses.0.from', message: expect.any(String) }]);
    expect(previewProblems(Date.parse('9999-01-01T00:00:00Z'), []).map((p) => p.path)).toEqual(['start']);
    expect(previewProblems(Date.parse('1969-12-31T23:59:59Z'), []).map((p) => p.path)).toEqual(['start']);
    expect(previewProblems(t0, [{ from: at(10), to: Date.parse('3000-01-01T00:00:00Z') }]).map((p) => p.path)).toEqual(['pauses.0.to']);
    expect(
      previewProblems(t0, [
        { from: at(50), to: at(80) },
        { from: at(10), to: at(60) },
      ]),
    ).toEqual([{ path: 'pauses.0.from', message: 'This pause overlaps pause 1.' }]);
  });
});

describe('what-if replay of one ticket', () => {
  const history = (h: Partial<TicketHistory>): TicketHistory => ({
    ticketNumber: 'ASM-0001',
    createdAt: t0,
    firstAssignedAt: null,
    statusChanges: [],
    ...h,
  });
  const pausedThenResolved = history({
    firstAssignedAt: at(50),
    statusChanges: [
      { at: at(500), from: 'open', to: 'paused' },
      { at: at(900), from: 'paused', to: 'open' },
      { at: at(1300), from: 'open', to: 'resolved' },
    ],
  });

  it('excludes paused time and meets assign at the first assignment, like the workflow', () => {
    const now = at(10_000);
    // resolve clock: 500 s before the pause + 400 s after it = 900 s
    expect(replayTicket(terms(100, 1000), pausedThenResolved, now).breached).toEqual({ assign: false, resolve: false });
    expect(replayTicket(terms(100, 899), pausedThenResolved, now).breached).toEqual({ assign: false, resolve: true });
    // a deadline reached at the very instant of the change is recorded before it (as the workflow does)
    expect(replayTicket(terms(100, 900), pausedThenResolved, now).breached.resolve).toBe(true);
    expect(replayTicket(terms(100, 901), pausedThenResolved, now).breached.resolve).toBe(false);
    expect(replayTicket(terms(49, 5000), pausedThenResolved, now).breached).toEqual({ assign: true, resolve: false });
  });

  it('a reopen starts a new cycle: breaches are counted per cycle', () => {
    const reopened = history({
      ...pausedThenResolved,
      statusChanges: [
        ...pausedThenResolved.statusChanges,
        { at: at(2000), from: 'resolved', to: 'open' },
        { at: at(2500), from: 'open', to: 'resolved' },
      ],
    });
    // 900 s in cycle 1, then 500 s more in cycle 2
    expect(replayTicket(terms(100, 1000), reopened, at(10_000)).breaches).toEqual({ assign: 0, resolve: 1 });
    expect(replayTicket(terms(100, 850), reopened, at(10_000)).breaches).toEqual({ assign: 0, resolve: 2 });
    expect(replayTicket(terms(100, 1500), reopened, at(10_000)).breaches.resolve).toBe(0);
  });

  it('an open ticket counts only what is due by now; created assigned never breaches assign', () => {
    const open = history({});
    expect(replayTicket(terms(100, 1000), open, at(99)).breached).toEqual({ assign: false, resolve: false });
    expect(replayTicket(terms(100, 1000), open, at(100)).breached).toEqual({ assign: true, resolve: false });
    expect(replayTicket(terms(100, 1000), history({ firstAssignedAt: t0 }), at(5000)).breached).toEqual({ assign: false, resolve: true });
    // resolved without ever being assigned: resolution closes the assign metric
    const resolvedUnassigned = history({ statusChanges: [{ at: at(60), from: 'open', to: 'resolved' }] });
    expect(replayTicket(terms(100, 1000), resolvedUnassigned, at(5000)).breaches).toEqual({ assign: 0, resolve: 0 });
  });

  it('waiting on the customer stops the resolve clock only, as the workflow would under the ticket’s pause statuses', () => {
    const waited = history({
      firstAssignedAt: at(50),
      statusChanges: [
        { at: at(100), from: 'open', to: 'waiting_on_customer' },
        { at: at(700), from: 'waiting_on_customer', to: 'open' },
        { at: at(1000), from: 'open', to: 'resolved' },
      ],
    });
    // resolve: 100 s + 300 s = 400 s counted
    expect(replayTicket(terms(100, 400), waited, at(5000)).breached.resolve).toBe(true);
    expect(replayTicket(terms(100, 401), waited, at(5000)).breached.resolve).toBe(false);
    const waitingStopsNothing = { assign: ['paused'], resolve: ['paused'] };
    expect(replayTicket({ ...terms(100, 401), pauseStatuses: waitingStopsNothing }, waited, at(5000)).breached.resolve).toBe(true);
  });

  it('under a business calendar, the night and the weekend do not count', () => {
    const created = Date.parse('2026-10-23T14:00:00Z'); // Friday 16:00 Berlin
    const h = history({ createdAt: created, firstAssignedAt: Date.parse('2026-10-26T08:30:00Z') }); // Monday 09:30
    const now = Date.parse('2026-11-01T00:00:00Z');
    expect(replayTicket({ ...terms(5401, 86_400), calendar: berlin() }, h, now).breached.assign).toBe(false); // 90 min used
    expect(replayTicket({ ...terms(5400, 86_400), calendar: berlin() }, h, now).breached.assign).toBe(true);
    expect(replayTicket(terms(5401, 86_400), h, now).breached.assign).toBe(true); // 24×7: 66.5 h
  });
});

describe('breach history', () => {
  it('keeps breach signals only, per metric and cycle, oldest deadline first', () => {
    const events = [
      {
        created_at: new Date(at(1000)),
        sla: { metric: 'resolve', signal: 'breached', due_at: isoAt(1000), cycle: 1, target_seconds: 1000 },
      },
      {
        created_at: new Date(at(2600)),
        sla: { metric: 'resolve', signal: 'breached', due_at: isoAt(2550), cycle: 2, target_seconds: 1000 },
      },
      { created_at: new Date(at(80)), sla: { metric: 'assign', signal: 'at_risk', due_at: isoAt(80), cycle: 1, target_seconds: 100 } },
      { created_at: new Date(at(100)), sla: { metric: 'assign', signal: 'breached', due_at: isoAt(100), cycle: 1, target_seconds: 100 } },
      { created_at: new Date(at(100)), sla: null },
    ];
    expect(breachHistory(events)).toEqual([
      { metric: 'assign', cycle: 1, due_at: isoAt(100), recorded_at: isoAt(100), target_seconds: 100 },
      { metric: 'resolve', cycle: 1, due_at: isoAt(1000), recorded_at: isoAt(1000), target_seconds: 1000 },
      { metric: 'resolve', cycle: 2, due_at: isoAt(2550), recorded_at: isoAt(2600), target_seconds: 1000 },
    ]);
  });
});
