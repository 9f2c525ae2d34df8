/**
 * Conditional SLA policies as pure functions: which rule a ticket matches, when a change re-matches
 * (and what the workflow then asks for), and how an edited policy is applied to a running clock.
 */
import { describe, expect, it } from 'vitest';
import type { Actor, ChangeRequest, SlaRetargetRequest } from '../../workflows/definitions.js';
import { change } from '../../workflows/mutations/change.js';
import type { PlanContext } from '../../workflows/mutations/index.js';
import { slaRetarget } from '../../workflows/mutations/sla-retarget.js';
import { slaFigures, startSla, termsDiffer, type SlaTerms } from '../../workflows/sla/clock.js';
import { conditionsHold, matchFieldsDiffer, matchSlaRule, type MatchableRule, type SlaMatchInput } from '../../workflows/sla/match.js';
import type { TicketSnapshot } from '../../workflows/ticket-state.js';
import { ticketSnapshot } from '../helpers/snapshots.js';

const T = (assign: number, resolve: number) => ({ assign_target_seconds: assign, resolve_target_seconds: resolve });
const rule = (name: string, position: number, over: Partial<MatchableRule> = {}) => ({
  name,
  position,
  conditions: {},
  targets: { critical: T(1, 2), high: T(3, 4), medium: T(5, 6), low: T(7, 8) },
  ...over,
});
const ticket = (over: Partial<SlaMatchInput> = {}): SlaMatchInput => ({
  priority: 'medium',
  groupId: null,
  category: null,
  tags: [],
  ...over,
});

describe('matchSlaRule', () => {
  const vip = rule('vip', 1, { conditions: { tags_any: ['VIP', 'exec'] } });
  const network = rule('network', 2, { conditions: { groups: ['g-net'], categories: ['Network'] } });
  const criticalOnly = rule('critical', 3, { targets: { critical: T(60, 600) } });
  const catchAll = rule('all', 4);

  it('tries rules by position and takes the first whose conditions all hold', () => {
    const rules = [catchAll, network, vip, criticalOnly]; // out of order on purpose
    expect(matchSlaRule(rules, ticket({ tags: ['vip'] }))?.name).toBe('vip');
    expect(matchSlaRule(rules, ticket({ groupId: 'g-net', category: 'network', tags: ['exec'] }))?.name).toBe('vip');
    expect(matchSlaRule(rules, ticket({ groupId: 'g-net', category: 'NETWORK' }))?.name).toBe('network');
    expect(matchSlaRule(rules, ticket({ groupId: 'g-net', category: 'printers' }))?.name).toBe('all');
    expect(matchSlaRule(rules, ticket({ groupId: 'g-other', category: 'network' }))?.name).toBe('all');
  });

  it('a rule without targets for the priority falls through to the next', () => {
    expect(matchSlaRule([criticalOnly, catchAll], ticket({ priority: 'critical' }))?.name).toBe('critical');
    expect(matchSlaRule([criticalOnly, catchAll], ticket({ priority: 'low' }))?.name).toBe('all');
    expect(matchSlaRule([criticalOnly], ticket({ priority: 'low' }))).toBeNull();
  });

  it('no rule matches: null (the default policy of the priority)', () => {
    expect(matchSlaRule([vip, network], ticket())).toBeNull();
    expect(matchSlaRule([], ticket())).toBeNull();
  });

  it('conditions: AND across kinds, OR within one, {} matches everything, unset fields match nothing listed', () => {
    expect(conditionsHold({}, ticket())).toBe(true);
    expect(conditionsHold({ priorities: ['high', 'medium'] }, ticket())).toBe(true);
    expect(conditionsHold({ priorities: ['high'] }, ticket())).toBe(false);
    expect(conditionsHold({ groups: ['g'] }, ticket())).toBe(false);
    expect(conditionsHold({ categories: ['x'] }, ticket())).toBe(false);
    expect(conditionsHold({ tags_any: ['x'] }, ticket({ tags: ['y', 'X'] }))).toBe(true);
    expect(conditionsHold({ groups: ['g'], priorities: ['medium'] }, ticket({ groupId: 'g' }))).toBe(true);
    expect(conditionsHold({ groups: ['g'], priorities: ['low'] }, ticket({ groupId: 'g' }))).toBe(false);
  });

  it('matchFieldsDiffer sees priority, group, category and tags, nothing else', () => {
    expect(matchFieldsDiffer(ticket(), ticket())).toBe(false);
    for (const over of [{ priority: 'low' as const }, { groupId: 'g' }, { category: 'c' }, { tags: ['t'] }]) {
      expect(matchFieldsDiffer(ticket(), ticket(over)), JSON.stringify(over)).toBe(true);
    }
  });
});

const AT = '2026-01-01T01:00:00.000Z';
const actor: Actor = { type: 'user', userId: 'u' };
const DEFAULT: SlaTerms = {
  assignTargetSeconds: 7_200,
  resolveTargetSeconds: 86_400,
  atRiskPercent: 80,
  calendar: null,
  policy: { key: 'default:medium', ruleId: null, name: 'default (medium)', version: 1 },
};
const RULE: SlaTerms = {
  assignTargetSeconds: 600,
  resolveTargetSeconds: 3_600,
  atRiskPercent: 50,
  calendar: null,
  policy: { key: 'r1', ruleId: 'r1', name: 'network', version: 3 },
};
const base = ticketSnapshot({
  version: 3,
  sla: startSla(DEFAULT, Date.parse('2026-01-01T00:00:00.000Z'), false).sla,
});
const ctx = (over: Partial<PlanContext> = {}): PlanContext => ({ at: AT, patched: () => true, ...over });
const req = (changes: ChangeRequest['changes'], over: Partial<ChangeRequest> = {}): ChangeRequest => ({
  requestId: 'r',
  actor,
  expectedVersion: null,
  changes,
  ...over,
});

describe('a change re-matches the SLA rules', () => {
  it('asks for terms only when a matched field really moves', () => {
    expect(change.slaTerms!(base, req({ title: 'x' }))).toBeNull();
    expect(change.slaTerms!(base, req({ priority: 'medium', tags: [] }))).toBeNull();
    expect(change.slaTerms!({ ...base, sla: undefined }, req({ tags: ['vip'] }))).toBeNull();
    expect(change.slaTerms!(base, req({ assignedGroupId: 'g' }))).toEqual({
      match: { priority: 'medium', groupId: 'g', category: null, tags: [] },
    });
  });

  it('takes the terms the API carried while their basis still describes the ticket, else matches again', () => {
    const basis = { priority: 'medium' as const, groupId: 'g', category: null, tags: [] };
    expect(change.slaTerms!(base, req({ assignedGroupId: 'g' }, { slaTerms: RULE, slaBasis: basis }))).toEqual({ terms: RULE });
    expect(change.slaTerms!(base, req({ assignedGroupId: 'g' }, { slaTerms: null, slaBasis: basis }))).toEqual({ terms: null });
    // the row the API read was behind: the ticket's tags moved meanwhile
    const moved = { ...base, tags: ['vip'] };
    expect(change.slaTerms!(moved, req({ assignedGroupId: 'g' }, { slaTerms: RULE, slaBasis: basis }))).toEqual({
      match: { ...basis, tags: ['vip'] },
    });
  });

  it('a group change onto a rule retargets with elapsed time kept and records the policy', () => {
    const plan = change.plan(base, req({ assignedGroupId: 'g' }), ctx({ terms: RULE }))!;
    const sla = plan.next.sla!;
    expect(sla.policy).toEqual(RULE.policy);
    expect(sla.assign.targetSeconds).toBe(600);
    expect(sla.resolve.targetSeconds).toBe(3_600);
    expect(sla.atRiskPercent).toBe(50);
    expect(slaFigures(sla, 'assign', Date.parse(AT))).toMatchObject({ elapsed_seconds: 3_600, state: 'breached' });
    expect(plan.timeline.map((e) => `${e.metric}:${e.kind}`)).toEqual(['assign:target_changed', 'resolve:target_changed']);
  });

  it('the same policy and version again changes no target (no timeline noise)', () => {
    const plan = change.plan(base, req({ tags: ['x'] }), ctx({ terms: DEFAULT }))!;
    expect(plan.next.sla).toEqual(base.sla);
    expect(plan.timeline).toEqual([]);
  });

  it('histories from before the patch: a group change never retargets', () => {
    const plan = change.plan(base, req({ assignedGroupId: 'g' }), ctx({ terms: RULE, patched: (id) => id !== 'sla-rules' }))!;
    expect(plan.next.sla).toEqual(base.sla);
  });

  it('termsDiffer compares policy key and version, targets, at-risk percent and calendar', () => {
    expect(termsDiffer(base.sla!, DEFAULT)).toBe(false);
    expect(termsDiffer(base.sla!, { ...DEFAULT, policy: { ...DEFAULT.policy!, version: 2 } })).toBe(true);
    expect(termsDiffer(base.sla!, { ...DEFAULT, resolveTargetSeconds: 1 })).toBe(true);
    expect(termsDiffer(base.sla!, { ...DEFAULT, atRiskPercent: 90 })).toBe(true);
  });
});

describe('slaRetarget (the repair batch applying a policy edit)', () => {
  const v2: SlaTerms = { ...DEFAULT, assignTargetSeconds: 1_800, policy: { ...DEFAULT.policy!, version: 2 } };
  const repair = (over: Partial<SlaRetargetRequest> = {}): SlaRetargetRequest => ({
    requestId: 'sla-repair-1',
    actor,
    policyKey: 'default:medium',
    version: 2,
    terms: { medium: v2 },
    ...over,
  });

  it('applies the new version to a ticket on an older one, elapsed kept, with an audit entry and no event', () => {
    const plan = slaRetarget.plan(base, repair(), ctx())!;
    expect(plan.next.version).toBe(4);
    expect(plan.next.sla!.policy).toEqual(v2.policy);
    expect(plan.next.sla!.assign.targetSeconds).toBe(1_800);
    expect(slaFigures(plan.next.sla!, 'assign', Date.parse(AT))).toMatchObject({ elapsed_seconds: 3_600, state: 'breached' });
    expect(plan.audit).toEqual([
      {
        action: 'sla_policy_applied',
        field: 'sla.policy',
        old: { key: 'default:medium', version: 1 },
        new: { key: 'default:medium', version: 2 },
      },
    ]);
    expect(plan.events).toEqual([]);
  });

  it('ignores a ticket already on the version, on another policy, resolved, or without the priority’s terms', () => {
    const applied = slaRetarget.plan(base, repair(), ctx())!.next;
    expect(slaRetarget.plan(applied, repair(), ctx())).toBeNull();
    expect(slaRetarget.plan(base, repair({ policyKey: 'r1' }), ctx())).toBeNull();
    expect(slaRetarget.plan({ ...base, status: 'resolved' }, repair(), ctx())).toBeNull();
    expect(slaRetarget.plan(base, repair({ terms: { high: v2 } }), ctx())).toBeNull();
    expect(slaRetarget.plan({ ...base, sla: undefined }, repair(), ctx())).toBeNull();
  });

  it('the new version’s pause statuses apply to the status the ticket waits in; unchanged ones add no step', () => {
    const waiting: TicketSnapshot = { ...base, status: 'waiting_on_customer' };
    const stopsAssign = { ...v2, pauseStatuses: { assign: ['paused', 'waiting_on_customer'], resolve: ['paused', 'waiting_on_customer'] } };
    const plan = slaRetarget.plan(waiting, repair({ terms: { medium: stopsAssign } }), ctx())!;
    expect(plan.next.sla!.assign.phase).toBe('paused');
    expect(plan.timeline.map((e) => `${e.metric}:${e.kind}`)).toContain('assign:paused');
    const same = slaRetarget.plan(base, repair(), ctx())!;
    expect(same.timeline.map((e) => e.kind)).not.toContain('paused');
    expect(same.timeline.map((e) => e.kind)).not.toContain('resumed');
  });

  it('a clock from before policies were recorded counts as its priority’s default, version 0', () => {
    const { policy: _p, ...legacy } = base.sla!;
    const plan = slaRetarget.plan({ ...base, sla: legacy }, repair({ version: 1, terms: { medium: DEFAULT } }), ctx())!;
    expect(plan.next.sla!.policy).toEqual(DEFAULT.policy);
    expect(plan.audit[0]!.old).toEqual({ key: 'default:medium', version: 0 });
  });
});

describe('SlaRuleWriteSchema (what the API accepts)', async () => {
  await import('../../src/http/api-router.js'); // extends zod with .openapi(), as the app does
  const { SlaRuleWriteSchema } = await import('../../src/http/routes/sla-rules/schema.js');
  const ok = { name: ' VIP ', targets: { high: T(60, 600) } };

  it('fills the defaults and trims the name', () => {
    expect(SlaRuleWriteSchema.parse(ok)).toEqual({
      name: 'VIP',
      conditions: {},
      targets: { high: T(60, 600) },
      at_risk_percent: 80,
      calendar_id: null,
    });
  });

  it('refuses no targets, non-positive or fractional targets, unknown keys, empty or unknown condition lists', () => {
    for (const bad of [
      { ...ok, targets: {} },
      { ...ok, targets: { high: T(0, 600) } },
      { ...ok, targets: { high: T(1.5, 600) } },
      { ...ok, targets: { high: { assign_target_seconds: 60 } } },
      { ...ok, targets: { urgent: T(60, 600) } },
      { ...ok, conditions: { tags_any: [] } },
      { ...ok, conditions: { groups: ['not-a-uuid'] } },
      { ...ok, conditions: { priorities: ['urgent'] } },
      { ...ok, conditions: { colour: ['red'] } },
      { ...ok, at_risk_percent: 0 },
      { ...ok, name: '  ' },
      { ...ok, apply_to_open: true },
    ]) {
      expect(SlaRuleWriteSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});
