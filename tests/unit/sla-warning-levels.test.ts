/**
 * Issue 21 items 3 and 4 on the pure clock: several warning levels per metric (each once per
 * metric and cycle, in order, before a breach due with them, never after a recorded breach) and
 * pause statuses per clock (waiting_on_customer stops resolve, not assign, by default), through
 * pause, resume, reopen and priority changes; the policy checks behind the API's 422s; and what a
 * run that predates the patches keeps ignoring.
 */
import { describe, expect, it } from 'vitest';
import {
  dueSignals,
  fireSignal,
  followStatus,
  pendingSignals,
  reopenSla,
  resolveSla,
  retargetSla,
  slaFigures,
  startSla,
  type SlaTerms,
  type TicketSla,
} from '../../workflows/sla/clock.js';
import { adoptable, PAUSE_STATUSES_PATCH, WARNING_LEVELS_PATCH } from '../../workflows/sla/warnings.js';
import { applyChange, type TicketSnapshot } from '../../workflows/ticket-state.js';
import { change } from '../../workflows/mutations/change.js';
import { planSlaSignals } from '../../workflows/mutations/sla-signals.js';
import { normalisePauseStatuses, normaliseWarningLevels, optionalSlaTerms } from '../../src/commands/sla/levels.js';
import { ticketSnapshot } from '../helpers/snapshots.js';

const t0 = Date.parse('2026-11-23T09:00:00Z');
const at = (s: number) => t0 + s * 1000;
const isoAt = (s: number) => new Date(at(s)).toISOString();

// assign 600 s: 50 % at 300 s, 75 % at 450 s, 1 min before at 540 s, breach at 600 s
const LEVELS: SlaTerms = {
  assignTargetSeconds: 600,
  resolveTargetSeconds: 1200,
  atRiskPercent: 80,
  calendar: null,
  warningLevels: {
    assign: [{ percent: 50 }, { percent: 75 }, { minutesBefore: 1 }],
    resolve: [{ percent: 90 }],
  },
};
const legacy: SlaTerms = { assignTargetSeconds: 600, resolveTargetSeconds: 1200, atRiskPercent: 80, calendar: null };

const signals = (sla: TicketSla, now = at(100_000)) =>
  dueSignals(sla, now).map((d) => `${d.metric}:${d.signal}${d.level ? ':' + JSON.stringify(d.level) : ''}@${(d.at - t0) / 1000}`);

/** Fire everything due at `now`, as the workflow's timer does. */
function fireDue(sla: TicketSla, now: number): TicketSla {
  for (const d of dueSignals(sla, now)) sla = fireSignal(sla, d, now).sla;
  return sla;
}

describe('warning levels', () => {
  it('schedule each level of a metric in order, then the breach', () => {
    const sla = startSla(LEVELS, t0, false).sla;
    expect(pendingSignals(sla).map((d) => [d.metric, d.signal, d.level ?? null, (d.at - t0) / 1000])).toEqual([
      ['assign', 'at_risk', { percent: 50 }, 300],
      ['assign', 'at_risk', { percent: 75 }, 450],
      ['assign', 'at_risk', { minutesBefore: 1 }, 540],
      ['assign', 'breached', null, 600],
      ['resolve', 'at_risk', { percent: 90 }, 1080],
      ['resolve', 'breached', null, 1200],
    ]);
  });

  it('fire each level exactly once, the figures at risk from the first', () => {
    let sla = startSla(LEVELS, t0, false).sla;
    expect(slaFigures(sla, 'assign', at(299)).at_risk).toBe(false);
    for (const [s, expected] of [
      [300, ['assign:at_risk:{"percent":50}@300']],
      [450, ['assign:at_risk:{"percent":75}@450']],
      [540, ['assign:at_risk:{"minutesBefore":1}@540']],
      [600, ['assign:breached@600']],
    ] as const) {
      expect(signals(sla, at(s))).toEqual(expected);
      sla = fireDue(sla, at(s));
      expect(dueSignals(sla, at(s))).toEqual([]); // fired: not again
    }
    expect(sla.assign.warnings).toEqual({ 'percent:50': isoAt(300), 'percent:75': isoAt(450), 'minutes_before:1': isoAt(540) });
    expect(slaFigures(sla, 'assign', at(301))).toMatchObject({ at_risk: true, at_risk_at: isoAt(300), state: 'breached' });
    // the levels name themselves in the timeline
    const step = fireSignal(startSla(LEVELS, t0, false).sla, dueSignals(startSla(LEVELS, t0, false).sla, at(300))[0]!, at(300));
    expect(step.timeline[0]).toMatchObject({ kind: 'at_risk', detail: 'warning 50%' });
  });

  it('fire every level due at once (a worker back after an outage) in order, before the breach, a version each', () => {
    const sla = startSla(LEVELS, t0, false).sla;
    expect(signals(sla, at(700))).toEqual([
      'assign:at_risk:{"percent":50}@300',
      'assign:at_risk:{"percent":75}@450',
      'assign:at_risk:{"minutesBefore":1}@540',
      'assign:breached@600',
    ]);
    // one version per level (audit entries and events are keyed by version and type), the breach with the last
    let s: TicketSnapshot = { ...snapshot, sla };
    const versions: [string, unknown][][] = [];
    for (let plan = planSlaSignals(s, 'assign', at(700)); plan; plan = planSlaSignals(s, 'assign', at(700))) {
      versions.push(plan.events.map((e) => [e.type, (e.data!.sla as { level?: unknown }).level ?? null]));
      const keys = plan.audit.map((a) => `${a.action}|${a.field}`);
      expect(new Set(keys).size).toBe(keys.length);
      s = plan.next;
    }
    expect(versions).toEqual([
      [['ticket.sla_at_risk', { percent: 50 }]],
      [['ticket.sla_at_risk', { percent: 75 }]],
      [
        ['ticket.sla_at_risk', { minutes_before: 1 }],
        ['ticket.sla_breached', null],
      ],
    ]);
    expect(s.version).toBe(snapshot.version + 3);
  });

  it('a metric with no levels only breaches; the default is the single at-risk level', () => {
    const none = startSla({ ...LEVELS, warningLevels: { assign: [], resolve: [{ percent: 10 }] } }, t0, false).sla;
    expect(signals(none, at(600))).toEqual(['resolve:at_risk:{"percent":10}@120', 'assign:breached@600']);
    expect(slaFigures(none, 'assign', at(599)).at_risk).toBe(false);
    const old = startSla(legacy, t0, false).sla;
    expect(old.warningLevels).toBeUndefined(); // the clock keeps its older shape
    expect(old.assign.warnings).toBeUndefined();
    expect(signals(old, at(600))).toEqual(['assign:at_risk:{"percent":80}@480', 'assign:breached@600']);
  });

  it('reopen starts a new cycle: the resolve levels fire again', () => {
    let sla = fireDue(startSla(LEVELS, t0, false).sla, at(1080));
    expect(sla.resolve.warnings).toEqual({ 'percent:90': isoAt(1080) });
    sla = resolveSla(sla, at(1100)).sla;
    sla = reopenSla(sla, at(2000)).sla;
    expect(sla.resolve).toMatchObject({ cycle: 2, atRiskAt: null, warnings: {} });
    // 1100 s counted; 90 % (1080 s) is behind it, so it fires at once in the new cycle, the breach 100 s on
    expect(signals(sla, at(2000)).filter((x) => x.startsWith('resolve'))).toEqual(['resolve:at_risk:{"percent":90}@2000']);
    expect(pendingSignals(sla).find((d) => d.metric === 'resolve' && d.signal === 'breached')!.at).toBe(at(2100));
  });

  it('a priority change keeps fired levels, fires a new level already passed at once, and none after a breach', () => {
    let sla = fireDue(startSla(LEVELS, t0, false).sla, at(460)); // 50 % and 75 % fired
    const next: SlaTerms = {
      ...LEVELS,
      assignTargetSeconds: 900,
      warningLevels: { assign: [{ percent: 50 }, { percent: 40 }], resolve: [] },
    };
    sla = retargetSla(sla, next, at(500)).sla;
    // 50 % of 900 s = 450 s: fired already (same level); 40 % = 360 s: new and passed, fires now
    expect(signals(sla, at(500))).toEqual(['assign:at_risk:{"percent":40}@500']);
    sla = fireDue(sla, at(500));
    expect(signals(sla, at(900))).toEqual(['assign:breached@900']);
    sla = fireDue(sla, at(900));
    // breached: a level a later priority change adds never fires (a warning after the breach is noise)
    sla = retargetSla(sla, { ...next, assignTargetSeconds: 2000, warningLevels: { assign: [{ percent: 99 }], resolve: [] } }, at(950)).sla;
    expect(dueSignals(sla, at(10_000)).filter((d) => d.metric === 'assign')).toEqual([]);
  });

  it('a clock started with the single level takes levels at a priority change, its fired at-risk kept by its percent', () => {
    let sla = fireDue(startSla(legacy, t0, false).sla, at(480)); // 80 % fired
    sla = retargetSla(sla, { ...LEVELS, warningLevels: { assign: [{ percent: 80 }, { percent: 90 }], resolve: [] } }, at(500)).sla;
    expect(sla.assign.warnings).toEqual({ 'percent:80': isoAt(480) });
    expect(signals(sla, at(540))).toEqual(['assign:at_risk:{"percent":90}@540']);
    // and back to a policy without levels: the clock keeps explicit levels (the at-risk percent one), fired by key
    sla = retargetSla(sla, legacy, at(520)).sla;
    expect(sla.warningLevels).toEqual({ assign: [{ percent: 80 }], resolve: [{ percent: 80 }] });
    expect(signals(sla, at(599)).filter((x) => x.startsWith('assign'))).toEqual([]);
  });
});

describe('pause statuses', () => {
  it('by default waiting_on_customer stops resolve but not assign; leaving it resumes resolve with its time', () => {
    let sla = startSla(legacy, t0, false).sla;
    const waiting = followStatus(sla, 'waiting_on_customer', at(100));
    expect(waiting.timeline.map((e) => `${e.metric}:${e.kind}`)).toEqual(['resolve:paused']);
    sla = waiting.sla;
    expect(sla.assign.phase).toBe('running');
    expect(slaFigures(sla, 'resolve', at(500))).toMatchObject({ state: 'paused', elapsed_seconds: 100, due_at: null });
    expect(pendingSignals(sla).map((d) => `${d.metric}:${d.signal}`)).toEqual(['assign:at_risk', 'assign:breached']);
    sla = followStatus(sla, 'open', at(400)).sla;
    expect(slaFigures(sla, 'resolve', at(500))).toMatchObject({ state: 'running', elapsed_seconds: 200, due_at: isoAt(1500) });
  });

  it('paused stops both; a policy may stop assign on waiting_on_customer too', () => {
    expect(followStatus(startSla(legacy, t0, false).sla, 'paused', at(1)).timeline.map((e) => e.metric)).toEqual(['assign', 'resolve']);
    const both = startSla({ ...legacy, pauseStatuses: { assign: ['paused', 'waiting_on_customer'], resolve: ['paused'] } }, t0, false).sla;
    expect(followStatus(both, 'waiting_on_customer', at(1)).timeline.map((e) => `${e.metric}:${e.kind}`)).toEqual(['assign:paused']);
  });

  it('a status change through the ticket rules: waiting, a priority change whose policy frees resolve, resolving', () => {
    const s: TicketSnapshot = { ...snapshot, sla: startSla(legacy, t0, false).sla };
    const waiting = applyChange(s, { status: 'waiting_on_customer' }, isoAt(100));
    expect(waiting.events).toEqual(['ticket.updated', 'ticket.status_changed']); // not a pause of the ticket
    expect(waiting.next.pausedAt).toBeNull();
    expect(waiting.next.sla).toMatchObject({ assign: { phase: 'running' }, resolve: { phase: 'paused' } });
    // the new priority's policy does not stop resolve on waiting_on_customer: it runs again at once
    const freeing: SlaTerms = { ...legacy, pauseStatuses: { assign: ['paused'], resolve: ['paused'] } };
    const retargeted = applyChange(waiting.next, { priority: 'high' }, isoAt(200), freeing);
    expect(retargeted.slaTimeline.map((e) => `${e.metric}:${e.kind}`)).toEqual([
      'assign:target_changed',
      'resolve:target_changed',
      'resolve:resumed',
    ]);
    const resolved = applyChange(waiting.next, { status: 'resolved' }, isoAt(300));
    expect(resolved.next.sla).toMatchObject({ assign: { phase: 'met' }, resolve: { phase: 'met', elapsedMs: 100_000 } });
  });
});

describe('runs from before the patches', () => {
  const sla = startSla(LEVELS, t0, false).sla;

  it('ignore the levels and statuses an activity of a newer worker returned; ask the patch only when they are there', () => {
    const asked: string[] = [];
    const old = adoptable({ ...sla, pauseStatuses: { assign: ['paused'], resolve: ['paused'] } }, (id) => (asked.push(id), false));
    expect(asked).toEqual([WARNING_LEVELS_PATCH, PAUSE_STATUSES_PATCH]);
    expect(old.warningLevels).toBeUndefined();
    expect(old.pauseStatuses).toBeUndefined();
    expect(old.assign.warnings).toBeUndefined();
    expect(signals(old, at(600))).toEqual(['assign:at_risk:{"percent":80}@480', 'assign:breached@600']);
    expect(adoptable(sla, () => true)).toBe(sla);
    const none: string[] = [];
    adoptable(startSla(legacy, t0, false).sla, (id) => (none.push(id), true));
    expect(none).toEqual([]);
  });

  it('a priority change in such a run keeps the single level', () => {
    const s: TicketSnapshot = { ...snapshot, sla: startSla(legacy, t0, false).sla };
    const req = {
      requestId: 'r',
      actor: { type: 'user' as const, userId: 'u' },
      changes: { priority: 'high' as const },
      expectedVersion: null,
    };
    const plan = change.plan(s, req, { at: isoAt(10), terms: LEVELS, patched: () => false })!;
    expect(plan.next.sla!.warningLevels).toBeUndefined();
    const patchedPlan = change.plan(s, req, { at: isoAt(10), terms: LEVELS, patched: () => true })!;
    expect(patchedPlan.next.sla!.warningLevels).toEqual(LEVELS.warningLevels);
  });
});

describe('policy checks (the 422s of PUT /sla-policies)', () => {
  const targets = { assign: 600, resolve: 1200 };

  it('fill a metric left out with the at-risk level, order levels as reached, refuse duplicates and minutes not before the target', () => {
    expect(normaliseWarningLevels(undefined, 80, targets)).toEqual({ stored: null, problems: [] });
    expect(normaliseWarningLevels({ assign: [{ minutes_before: 1 }, { percent: 50 }] }, 70, targets)).toEqual({
      stored: { assign: [{ percent: 50 }, { minutes_before: 1 }], resolve: [{ percent: 70 }] },
      problems: [],
    });
    const bad = normaliseWarningLevels({ assign: [{ percent: 50 }, { percent: 50 }, { minutes_before: 10 }] }, 80, targets);
    expect(bad.problems.map((p) => p.path)).toEqual(['warning_levels.assign.1', 'warning_levels.assign.2.minutes_before']);
  });

  it('always stop on paused; the default statuses when omitted; the clock gets only what the policy sets', () => {
    expect(normalisePauseStatuses(null)).toBeNull();
    expect(normalisePauseStatuses({ assign: ['waiting_on_customer'] })).toEqual({
      assign: ['paused', 'waiting_on_customer'],
      resolve: ['paused', 'waiting_on_customer'],
    });
    expect(normalisePauseStatuses({ resolve: [] })).toEqual({ assign: ['paused'], resolve: ['paused'] });
    expect(optionalSlaTerms({ warningLevels: null, pauseStatuses: null })).toEqual({});
    expect(optionalSlaTerms({ warningLevels: { assign: [{ minutes_before: 5 }], resolve: [] }, pauseStatuses: null })).toEqual({
      warningLevels: { assign: [{ minutesBefore: 5 }], resolve: [] },
    });
  });
});

const snapshot = ticketSnapshot({
  version: 3,
  createdAt: new Date(t0).toISOString(),
});
