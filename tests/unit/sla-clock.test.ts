import { describe, expect, it } from 'vitest';
import {
  dueSignals,
  fireSignal,
  isBreached,
  nextSlaInstant,
  pauseSla,
  pendingSignals,
  reopenSla,
  resolveSla,
  resumeSla,
  retargetSla,
  slaFigures,
  startSla,
  meet,
  type SlaTerms,
  type TicketSla,
} from '../../workflows/sla/clock.js';
import { applyChange, type TicketSnapshot } from '../../workflows/ticket-state.js';
import { ticketSnapshot } from '../helpers/snapshots.js';

const t0 = Date.parse('2026-11-23T09:00:00Z');
const at = (s: number) => t0 + s * 1000;
const isoAt = (s: number) => new Date(at(s)).toISOString();
const terms: SlaTerms = { assignTargetSeconds: 100, resolveTargetSeconds: 1000, atRiskPercent: 80, calendar: null };
const start = (assigned = false) => startSla(terms, t0, assigned).sla;

describe('the SLA clock (24×7)', () => {
  it('starts both clocks and schedules at-risk at 80 % and the breach at 100 %, earliest first', () => {
    const sla = start();
    expect(pendingSignals(sla).map((s) => [s.metric, s.signal, (s.at - t0) / 1000])).toEqual([
      ['assign', 'at_risk', 80],
      ['assign', 'breached', 100],
      ['resolve', 'at_risk', 800],
      ['resolve', 'breached', 1000],
    ]);
    expect(nextSlaInstant(sla)).toBe(at(80));
    expect(slaFigures(sla, 'assign', at(50))).toMatchObject({
      elapsed_seconds: 50,
      remaining_seconds: 50,
      due_at: isoAt(100),
      state: 'running',
      at_risk: false,
    });
    expect(slaFigures(sla, 'assign', at(80)).at_risk).toBe(true);
  });

  it('fires each signal once: a fired signal is no longer pending', () => {
    let sla = start();
    const due = dueSignals(sla, at(100));
    expect(due.map((d) => d.signal)).toEqual(['at_risk', 'breached']);
    for (const d of due) sla = fireSignal(sla, d, at(100)).sla;
    expect(dueSignals(sla, at(100))).toEqual([]);
    expect(dueSignals(sla, at(10_000)).map((d) => `${d.metric}:${d.signal}`)).toEqual(['resolve:at_risk', 'resolve:breached']);
    expect(slaFigures(sla, 'assign', at(150))).toMatchObject({ state: 'breached', breached_at: isoAt(100), remaining_seconds: 0 });
    expect(isBreached(sla)).toBe(true);
  });

  it('notes in the timeline when a signal fired late', () => {
    const late = fireSignal(start(), dueSignals(start(), at(100))[1]!, at(160));
    expect(late.timeline[0]).toMatchObject({ kind: 'breached', at: isoAt(100), detail: 'recorded 60s late (no worker was running)' });
  });

  it('pausing for d never changes elapsed, and moves every deadline by d', () => {
    for (const d of [1, 59, 3600, 86_400]) {
      const paused = pauseSla(start(), at(30)).sla;
      expect(slaFigures(paused, 'resolve', at(30 + d))).toMatchObject({ elapsed_seconds: 30, state: 'paused', due_at: null });
      expect(nextSlaInstant(paused)).toBeNull();
      const resumed = resumeSla(paused, at(30 + d)).sla;
      expect(slaFigures(resumed, 'resolve', at(30 + d)).elapsed_seconds).toBe(30);
      // due_at − created_at − paused == target
      expect(Date.parse(slaFigures(resumed, 'resolve', at(30 + d)).due_at!) - t0 - d * 1000).toBe(1000 * 1000);
    }
  });

  it('property: any sequence of pauses keeps due_at − created_at − paused == target', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let run = 0; run < 100; run++) {
      let sla = start();
      let now = 0;
      let paused = 0;
      for (let i = 0; i < 5; i++) {
        now += Math.floor(random() * 100);
        sla = pauseSla(sla, at(now)).sla;
        const d = Math.floor(random() * 10_000);
        now += d;
        paused += d;
        sla = resumeSla(sla, at(now)).sla;
      }
      expect((Date.parse(slaFigures(sla, 'resolve', at(now)).due_at!) - t0) / 1000 - paused).toBe(1000);
      expect(slaFigures(sla, 'resolve', at(now)).elapsed_seconds).toBe(now - paused);
    }
  });

  it('first assignment meets the assign metric; a ticket created assigned starts met', () => {
    const met = meet({ sla: start(), timeline: [] }, 'assign', at(40));
    expect(slaFigures(met.sla, 'assign', at(500))).toMatchObject({
      state: 'met',
      elapsed_seconds: 40,
      due_at: null,
      met_at: isoAt(40),
      at_risk: false,
    });
    expect(pendingSignals(met.sla).every((s) => s.metric === 'resolve')).toBe(true);
    expect(slaFigures(start(true), 'assign', at(500)).state).toBe('met');
  });

  it('resolve meets both metrics; reopen resumes the resolve clock in a new cycle', () => {
    const resolved = resolveSla(start(), at(300)).sla;
    expect(slaFigures(resolved, 'resolve', at(5000))).toMatchObject({ state: 'met', elapsed_seconds: 300 });
    expect(nextSlaInstant(resolved)).toBeNull();
    const reopened = reopenSla(resolved, at(5000));
    expect(reopened.timeline.map((e) => e.kind)).toEqual(['reopened']);
    expect(slaFigures(reopened.sla, 'resolve', at(5100))).toMatchObject({
      state: 'running',
      elapsed_seconds: 400,
      cycle: 2,
      due_at: isoAt(5000 + 700),
    });
    expect(slaFigures(reopened.sla, 'assign', at(5100)).state).toBe('met');
  });

  it('a breach in one cycle fires again in the next if the reopened clock is still past its target', () => {
    let sla = start();
    for (const d of dueSignals(sla, at(1200))) sla = fireSignal(sla, d, at(1200)).sla;
    sla = resolveSla(sla, at(1300)).sla;
    expect(slaFigures(sla, 'resolve', at(1400)).state).toBe('breached');
    sla = reopenSla(sla, at(2000)).sla;
    expect(dueSignals(sla, at(2000)).map((d) => [d.metric, d.signal, d.at])).toEqual([
      ['resolve', 'at_risk', at(2000)],
      ['resolve', 'breached', at(2000)],
    ]);
  });

  it('a priority change keeps elapsed time, re-targets, and is due at once when already past', () => {
    const sla = start();
    const tighter = retargetSla(sla, { ...terms, assignTargetSeconds: 60, resolveTargetSeconds: 500 }, at(70));
    expect(tighter.timeline.map((e) => `${e.metric}:${e.kind}:${e.detail}`)).toEqual([
      'assign:target_changed:100s → 60s',
      'resolve:target_changed:1000s → 500s',
    ]);
    expect(slaFigures(tighter.sla, 'assign', at(70))).toMatchObject({ elapsed_seconds: 70, target_seconds: 60, state: 'breached' });
    expect(dueSignals(tighter.sla, at(70)).map((d) => [d.metric, d.signal, d.at])).toEqual([
      ['assign', 'at_risk', at(70)],
      ['assign', 'breached', at(70)],
    ]);
    const looser = retargetSla(sla, { ...terms, resolveTargetSeconds: 2000 }, at(70));
    expect(slaFigures(looser.sla, 'resolve', at(70))).toMatchObject({ elapsed_seconds: 70, due_at: isoAt(2000) });
  });

  it('signals already fired stay fired after a looser priority', () => {
    let sla = start();
    for (const d of dueSignals(sla, at(100))) sla = fireSignal(sla, d, at(100)).sla;
    sla = retargetSla(sla, { ...terms, assignTargetSeconds: 10_000 }, at(110)).sla;
    expect(pendingSignals(sla).filter((s) => s.metric === 'assign')).toEqual([]);
    expect(slaFigures(sla, 'assign', at(110)).breached_at).toBe(isoAt(100));
  });

  it('with a business calendar, deadlines fall in business hours and nights do not count', () => {
    const office: SlaTerms = {
      ...terms,
      assignTargetSeconds: 2 * 3600,
      calendar: {
        id: 'c',
        name: 'office',
        timezone: 'UTC',
        weeklyHours: { mon: [{ start: '09:00', end: '17:00' }], tue: [{ start: '09:00', end: '17:00' }] },
        holidays: [],
      },
    };
    const sla = startSla(office, Date.parse('2026-11-23T16:00:00Z'), false).sla; // a Monday
    expect(slaFigures(sla, 'assign', Date.parse('2026-11-24T08:00:00Z'))).toMatchObject({
      elapsed_seconds: 3600,
      due_at: '2026-11-24T10:00:00.000Z',
    });
  });
});

describe('SLA minor defects (issue 14)', () => {
  it('a ticket created assigned has one start per metric, then the assign metric met', () => {
    expect(startSla(terms, t0, true).timeline.map((e) => `${e.metric}:${e.kind}`)).toEqual([
      'assign:started',
      'resolve:started',
      'assign:met',
    ]);
    expect(startSla(terms, t0, false).timeline.map((e) => `${e.metric}:${e.kind}`)).toEqual(['assign:started', 'resolve:started']);
  });

  it('a priority change while resolved sets the target a reopen runs under, with its at-risk percent', () => {
    const resolved = resolveSla(start(true), at(100)).sla;
    const urgent: SlaTerms = { assignTargetSeconds: 10, resolveTargetSeconds: 200, atRiskPercent: 50, calendar: null };
    const step = retargetSla(resolved, urgent, at(200), true);
    expect(step.sla.resolve).toMatchObject({ targetSeconds: 200, phase: 'met' });
    expect(step.sla.assign.targetSeconds).toBe(100); // met for good: its figures stay as they were
    const reopened = reopenSla(step.sla, at(300)).sla;
    // 100 s counted before resolving: at-risk at 50 % of 200 s is due at once, the breach 100 s after the reopen
    expect(pendingSignals(reopened).map((s) => [s.signal, (s.at - t0) / 1000])).toEqual([
      ['at_risk', 300],
      ['breached', 400],
    ]);
    // histories from before the rule: the met clock kept its target
    expect(retargetSla(resolved, urgent, at(200)).sla.resolve.targetSeconds).toBe(1000);
  });
});

describe('applyChange drives the SLA clock', () => {
  const snapshot = (): TicketSnapshot => ticketSnapshot({ createdById: null, createdAt: isoAt(0), sla: start() });

  it('pause, resume, assign, resolve and reopen each move the right clocks', () => {
    let s = snapshot();
    const kinds: string[] = [];
    const step = (changes: Parameters<typeof applyChange>[1], seconds: number) => {
      const applied = applyChange(s, changes, isoAt(seconds));
      kinds.push(...applied.slaTimeline.map((e) => `${e.metric}:${e.kind}`));
      s = applied.next;
    };
    step({ status: 'paused' }, 10);
    step({ status: 'under_investigation' }, 60);
    step({ assignedUserId: 'u1' }, 70);
    step({ status: 'resolved' }, 100);
    step({ status: 'open' }, 200);
    expect(kinds).toEqual([
      'assign:paused',
      'resolve:paused',
      'assign:resumed',
      'resolve:resumed',
      'assign:met',
      'resolve:met',
      'resolve:reopened',
    ]);
    expect(slaFigures(s.sla!, 'assign', at(300))).toMatchObject({ state: 'met', elapsed_seconds: 20 });
    expect(slaFigures(s.sla!, 'resolve', at(300))).toMatchObject({ state: 'running', elapsed_seconds: 150, cycle: 2 });
  });

  it('a priority change applies the new terms only when the priority really changes', () => {
    const s = snapshot();
    const applied = applyChange(s, { priority: 'critical' }, isoAt(50), { ...terms, assignTargetSeconds: 30 });
    expect(applied.next.sla!.assign.targetSeconds).toBe(30);
    expect(applyChange(s, { title: 'y' }, isoAt(50), { ...terms, assignTargetSeconds: 30 }).next.sla!.assign.targetSeconds).toBe(100);
  });

  it('leaves histories without an SLA alone', () => {
    const { sla: _omit, ...legacy } = snapshot();
    expect(applyChange(legacy, { status: 'paused' }, isoAt(5)).next.sla).toBeUndefined();
  });
});

// keep the type import honest
export type { TicketSla };
