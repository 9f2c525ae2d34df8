import { describe, expect, it } from 'vitest';
import { slaFigures, type SlaMetricInput } from '../../src/sla/figures.js';

const t0 = new Date('2026-01-05T09:00:00Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const base: SlaMetricInput = { targetSeconds: 1000, startedAt: t0, stoppedAt: null, breachedAt: null, pausedSeconds: 0, pausedSince: null, atRiskPercent: 80 };

describe('slaFigures (24×7)', () => {
  it('runs, then is at risk at 80 %, then breaches at 100 %', () => {
    expect(slaFigures(base, at(100))).toMatchObject({ elapsed_seconds: 100, remaining_seconds: 900, state: 'running', at_risk: false, due_at: at(1000).toISOString() });
    expect(slaFigures(base, at(799)).at_risk).toBe(false);
    expect(slaFigures(base, at(800)).at_risk).toBe(true);
    expect(slaFigures(base, at(1000))).toMatchObject({ state: 'breached', remaining_seconds: 0, breached_at: at(1000).toISOString() });
  });

  it('excludes paused time, finished and ongoing, and moves the deadline by it', () => {
    const paused = { ...base, pausedSeconds: 300 };
    expect(slaFigures(paused, at(500))).toMatchObject({ elapsed_seconds: 200, due_at: at(1300).toISOString() });
    const pausing = { ...base, pausedSince: at(400) };
    expect(slaFigures(pausing, at(900))).toMatchObject({ elapsed_seconds: 400, state: 'paused', due_at: null });
  });

  it('pausing for d never changes elapsed', () => {
    for (const d of [0, 1, 59, 3600, 86_400]) {
      expect(slaFigures({ ...base, pausedSeconds: d }, at(600 + d)).elapsed_seconds).toBe(600);
    }
  });

  it('is met when stopped before the target, and stays breached if stopped after', () => {
    expect(slaFigures({ ...base, stoppedAt: at(600) }, at(5000))).toMatchObject({ state: 'met', elapsed_seconds: 600, at_risk: false });
    expect(slaFigures({ ...base, stoppedAt: at(1200), breachedAt: at(1000) }, at(5000))).toMatchObject({ state: 'breached', breached_at: at(1000).toISOString() });
  });

  it('has no deadline without a target', () => {
    expect(slaFigures({ ...base, targetSeconds: null }, at(10))).toMatchObject({ target_seconds: null, remaining_seconds: null, due_at: null, state: 'running' });
  });
});
