/**
 * Conditional SLA policies over HTTP (issue 21 items 2 and 5): rules CRUD and order, the match at
 * create and on every change of a matched field (recorded on the ticket with the policy's version),
 * and `apply_to_open`: the SLA repair batch retargeting open tickets on the real dev server. On a
 * database of its own: it rewrites SLA policies.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Group } from '../../src/models/index.js';
import { eventually } from '../helpers/eventually.js';
import { createGroup, ensureSlaPolicies, signedIn } from '../helpers/factories.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let admin: string;
let manager: string;
let agent: string;
let network: Group;
let printers: Group;

beforeAll(async () => {
  h = await startHarness({ scratch: 'sla_rules', env: { RATE_LIMIT_PER_MINUTE: '100000' } });
  await ensureSlaPolicies(h.db);
  [admin, manager, agent] = await Promise.all([signedIn(h, 'admin'), signedIn(h, 'manager'), signedIn(h, 'agent')]).then((s) =>
    s.map((x) => x.token),
  );
  [network, printers] = await Promise.all([createGroup(h.db), createGroup(h.db)]);
});
afterAll(async () => {
  await h?.stop();
});

const T = (assign: number, resolve: number) => ({ assign_target_seconds: assign, resolve_target_seconds: resolve });
const post = (body: unknown) => call(h, 'POST', '/api/v1/sla-rules', { token: admin, body });
const ticketSla = async (id: string) => (await call(h, 'GET', `/api/v1/tickets/${id}/sla`, { token: admin })).body;
const create = async (body: Record<string, unknown>) => {
  const res = await call(h, 'POST', '/api/v1/tickets', { token: admin, body: { title: 'SLA rules', ...body } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
};
const patch = async (id: string, body: Record<string, unknown>) => {
  const res = await call(h, 'PATCH', `/api/v1/tickets/${id}`, { token: admin, body });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
};
async function clearRules() {
  for (const r of (await call(h, 'GET', '/api/v1/sla-rules', { token: admin })).body) {
    await call(h, 'DELETE', `/api/v1/sla-rules/${r.id}`, { token: admin });
  }
}

describe('SLA rules CRUD', () => {
  it('admins create, replace (one version on), reorder and delete; everyone signed in reads; others get 403', async () => {
    const body = { name: 'Network outages', conditions: { groups: [network.id], categories: ['network'] }, targets: { high: T(60, 600) } };
    expect((await call(h, 'POST', '/api/v1/sla-rules', { token: manager, body })).status).toBe(403);
    const first = await post(body);
    expect(first.status).toBe(201);
    expect(first.headers.get('location')).toBe(`/api/v1/sla-rules/${first.body.id}`);
    expect(first.body).toMatchObject({ ...body, position: 1, version: 1, at_risk_percent: 80, calendar_id: null });
    const second = await post({ name: 'VIP', conditions: { tags_any: ['vip'] }, targets: { medium: T(30, 300) }, at_risk_percent: 50 });
    expect(second.body.position).toBe(2);
    expect((await post({ ...body, name: 'network OUTAGES' })).status).toBe(409);

    const listed = await call(h, 'GET', '/api/v1/sla-rules', { token: agent });
    expect(listed.status).toBe(200);
    expect(listed.body.map((r: { name: string }) => r.name)).toEqual(['Network outages', 'VIP']);
    expect((await call(h, 'GET', `/api/v1/sla-rules/${second.body.id}`, { token: agent })).body.name).toBe('VIP');
    expect((await call(h, 'GET', `/api/v1/sla-rules/${randomUUID()}`, { token: agent })).status).toBe(404);
    expect((await call(h, 'GET', '/api/v1/sla-rules')).status).toBe(401);

    const replaced = await call(h, 'PUT', `/api/v1/sla-rules/${first.body.id}`, {
      token: admin,
      body: { ...body, targets: { high: T(90, 900) } },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ version: 2, position: 1, targets: { high: T(90, 900) } });
    expect(replaced.body.sla_repair_id).toBeUndefined();
    expect((await call(h, 'PUT', `/api/v1/sla-rules/${randomUUID()}`, { token: admin, body })).status).toBe(404);
    expect((await call(h, 'PUT', `/api/v1/sla-rules/${first.body.id}`, { token: agent, body })).status).toBe(403);

    const reordered = await call(h, 'PUT', '/api/v1/sla-rule-order', { token: admin, body: { ids: [second.body.id, first.body.id] } });
    expect(reordered.status).toBe(200);
    expect(reordered.body.map((r: { name: string; position: number }) => [r.name, r.position])).toEqual([
      ['VIP', 1],
      ['Network outages', 2],
    ]);
    for (const ids of [[second.body.id], [second.body.id, first.body.id, first.body.id], [second.body.id, randomUUID()]]) {
      const r = await call(h, 'PUT', '/api/v1/sla-rule-order', { token: admin, body: { ids } });
      expect(r.status, JSON.stringify(ids)).toBe(422);
    }

    expect((await call(h, 'DELETE', `/api/v1/sla-rules/${second.body.id}`, { token: manager })).status).toBe(403);
    expect((await call(h, 'DELETE', `/api/v1/sla-rules/${second.body.id}`, { token: admin })).status).toBe(204);
    expect((await call(h, 'DELETE', `/api/v1/sla-rules/${second.body.id}`, { token: admin })).status).toBe(404);
    await clearRules();
  });

  it('bad rules are 422s naming the field, and nothing is written', async () => {
    const ok = { name: 'ok', conditions: {}, targets: { low: T(60, 600) } };
    const oneMinute = await call(h, 'POST', '/api/v1/business-calendars', {
      token: admin,
      body: { name: 'Rules: one minute a week', timezone: 'Europe/Berlin', weekly_hours: { mon: [{ start: '09:00', end: '09:01' }] } },
    });
    expect(oneMinute.status).toBe(201);
    const cases: [unknown, string | null][] = [
      [{ ...ok, targets: {} }, null],
      [{ ...ok, targets: { low: T(0, 600) } }, null],
      [{ ...ok, targets: { urgent: T(60, 600) } }, null],
      [{ ...ok, conditions: { groups: [] } }, null],
      [{ ...ok, conditions: { color: ['red'] } }, null],
      [{ ...ok, conditions: { priorities: ['urgent'] } }, null],
      [{ ...ok, at_risk_percent: 100 }, null],
      [{ ...ok, extra: 1 }, null],
      [{ ...ok, conditions: { groups: [network.id, randomUUID()] } }, 'conditions.groups.1'],
      [{ ...ok, calendar_id: randomUUID() }, 'calendar_id'],
      [{ ...ok, targets: { low: T(60, 366 * 24 * 3600) }, calendar_id: oneMinute.body.id }, 'targets.low.resolve_target_seconds'],
    ];
    for (const [body, path] of cases) {
      const r = await post(body);
      expect(r.status, JSON.stringify(body)).toBe(422);
      if (path) expect(r.body.error.details.map((d: { path: string }) => d.path)).toEqual([path]);
    }
    expect((await call(h, 'GET', '/api/v1/sla-rules', { token: admin })).body).toEqual([]);
  });
});

describe('SLA rules and business calendars', () => {
  it('a calendar a rule uses cannot be deleted (409) nor narrowed so a rule’s target is out of reach (422 naming it)', async () => {
    const office = {
      name: 'Rules office',
      timezone: 'Europe/Berlin',
      weekly_hours: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, [{ start: '09:00', end: '17:00' }]])),
    };
    const calendar = (await call(h, 'POST', '/api/v1/business-calendars', { token: admin, body: office })).body;
    const rule = await post({ name: 'Office hours', targets: { low: T(3_600, 366 * 24 * 3600) }, calendar_id: calendar.id });
    expect(rule.status).toBe(201);
    const removed = await call(h, 'DELETE', `/api/v1/business-calendars/${calendar.id}`, { token: admin });
    expect(removed.status).toBe(409);
    expect(removed.body.error).toMatchObject({ code: 'calendar_in_use', details: { sla_rules: [rule.body.id] } });
    const narrowed = await call(h, 'PUT', `/api/v1/business-calendars/${calendar.id}`, {
      token: admin,
      body: { ...office, weekly_hours: { mon: [{ start: '09:00', end: '09:01' }] } },
    });
    expect(narrowed.status).toBe(422);
    expect(narrowed.body.error.details.map((d: { path: string }) => d.path)).toEqual([
      `sla_rules.${rule.body.id}.low.resolve_target_seconds`,
    ]);
    await clearRules();
    expect((await call(h, 'DELETE', `/api/v1/business-calendars/${calendar.id}`, { token: admin })).status).toBe(204);
  });
});

describe('matching', () => {
  it('a ticket runs under the first matching rule at create, recorded with its version; no match: the default policy', async () => {
    await clearRules();
    const vip = (await post({ name: 'VIP first', conditions: { tags_any: ['vip'] }, targets: { medium: T(30, 300), high: T(20, 200) } }))
      .body;
    const net = (
      await post({ name: 'Network', conditions: { groups: [network.id] }, targets: { medium: T(40, 400) }, at_risk_percent: 50 })
    ).body;

    const both = await create({ tags: ['VIP'], assigned_group_id: network.id });
    expect(both.sla.policy).toEqual({ rule_id: vip.id, name: 'VIP first', version: 1 });
    expect(both.sla.resolve.target_seconds).toBe(300);
    const onNet = await create({ assigned_group_id: network.id });
    expect(onNet.sla.policy).toEqual({ rule_id: net.id, name: 'Network', version: 1 });
    const sla = await ticketSla(onNet.id);
    expect(sla).toMatchObject({ policy: { rule_id: net.id, version: 1 }, at_risk_percent: 50, assign: { target_seconds: 40 } });
    // low has no targets in either rule: falls through to the default policy
    const low = await create({ tags: ['vip'], assigned_group_id: network.id, priority: 'low' });
    expect(low.sla.policy).toEqual({ rule_id: null, name: 'default (low)', version: 1 });
    expect(low.sla.assign.target_seconds).toBe(28_800);
    const plain = await create({ assigned_group_id: printers.id });
    expect((await ticketSla(plain.id)).policy).toEqual({ rule_id: null, name: 'default (medium)', version: 1 });
  });

  it('a change of group, tags or priority re-matches: new terms apply with elapsed time kept; other changes do not', async () => {
    const [vip] = (await call(h, 'GET', '/api/v1/sla-rules', { token: admin })).body;
    const t = await create({ assigned_group_id: printers.id });
    expect(t.sla.policy.rule_id).toBeNull();
    await new Promise((r) => setTimeout(r, 1_100)); // let the clock count a second
    const tagged = await patch(t.id, { tags: ['vip'] });
    expect(tagged.sla.policy).toEqual({ rule_id: vip.id, name: 'VIP first', version: 1 });
    expect(tagged.sla.assign.target_seconds).toBe(30);
    const sla = await ticketSla(t.id);
    const changed = sla.timeline.filter((e: { kind: string }) => e.kind === 'target_changed');
    expect(changed.map((e: { metric: string; detail: string }) => `${e.metric} ${e.detail}`)).toEqual([
      'assign 7200s → 30s',
      'resolve 86400s → 300s',
    ]);
    expect(changed[0].elapsed_seconds).toBeGreaterThanOrEqual(1); // elapsed kept, not restarted
    // a title change re-matches nothing and retargets nothing
    await patch(t.id, { title: 'renamed' });
    expect((await ticketSla(t.id)).timeline.filter((e: { kind: string }) => e.kind === 'target_changed')).toHaveLength(2);
    // priority low: the rule has no low targets → back to the default policy of low
    const lowered = await patch(t.id, { priority: 'low' });
    expect(lowered.sla.policy).toEqual({ rule_id: null, name: 'default (low)', version: 1 });
    expect(lowered.sla.resolve.target_seconds).toBe(259_200);
    // the rule's id and version are in the ticket row's clocks too (the read model the repair uses)
    const row = await h.db('tickets').where({ id: t.id }).first();
    expect(row.slaState.policy).toMatchObject({ key: 'default:low', version: 1 });
  });

  it('a rule carries warning levels and pause statuses like a policy: checked, shown, and the clocks of its tickets run under them', async () => {
    const levels = { assign: [{ percent: 50 }, { minutes_before: 1 }] };
    // a minutes_before level must fall after the start under every priority's targets
    const refused = await post({
      name: 'Too short',
      conditions: { tags_any: ['levels'] },
      targets: { low: T(60, 600) },
      warning_levels: levels,
    });
    expect(refused.status).toBe(422);
    expect(JSON.stringify(refused.body.error.details)).toContain('warning_levels.assign.1.minutes_before');
    const rule = await post({
      name: 'Levels',
      conditions: { tags_any: ['levels'] },
      targets: { medium: T(600, 3600) },
      warning_levels: levels,
      pause_statuses: { assign: ['waiting_on_customer'] },
    });
    expect(rule.status).toBe(201);
    expect(rule.body).toMatchObject({
      warning_levels: { assign: [{ percent: 50 }, { minutes_before: 1 }], resolve: [{ percent: 80 }] },
      pause_statuses: { assign: ['paused', 'waiting_on_customer'], resolve: ['paused', 'waiting_on_customer'] },
    });
    const t = await create({ tags: ['levels'] });
    expect(t.sla.policy).toMatchObject({ rule_id: rule.body.id });
    const sla = await ticketSla(t.id);
    expect(sla.warning_levels.assign.map((l: { level: unknown }) => l.level)).toEqual([{ percent: 50 }, { minutes_before: 1 }]);
    expect(sla.pause_statuses.assign).toEqual(['paused', 'waiting_on_customer']);
    await patch(t.id, { status: 'waiting_on_customer' });
    expect((await ticketSla(t.id)).assign.state).toBe('paused'); // the rule stops assign too
    // a ticket already waiting on its customer that a tag change moves onto the rule: its assign clock stops then
    const moved = await create({});
    await patch(moved.id, { status: 'waiting_on_customer' });
    expect((await ticketSla(moved.id)).assign.state).toBe('running'); // the default policy leaves assign running
    await patch(moved.id, { tags: ['levels'] });
    const after = await ticketSla(moved.id);
    expect(after).toMatchObject({ policy: { rule_id: rule.body.id }, assign: { state: 'paused' }, resolve: { state: 'paused' } });
  });
});

describe('apply_to_open', () => {
  it('a rule edit with apply_to_open retargets its open tickets (elapsed kept) by a batch whose progress is visible; resolved ones keep theirs', async () => {
    await clearRules();
    const rule = (await post({ name: 'Printers', conditions: { groups: [printers.id] }, targets: { medium: T(3_000, 30_000) } })).body;
    const open = await Promise.all([create({ assigned_group_id: printers.id }), create({ assigned_group_id: printers.id })]);
    const resolved = await create({ assigned_group_id: printers.id });
    await patch(resolved.id, { status: 'resolved' });
    const elsewhere = await create({ assigned_group_id: network.id });

    const edit = { name: 'Printers', conditions: { groups: [printers.id] }, targets: { medium: T(2_000, 20_000) } };
    const res = await call(h, 'PUT', `/api/v1/sla-rules/${rule.id}?apply_to_open=true`, { token: admin, body: edit });
    expect(res.status).toBe(200);
    expect(res.body.version).toBe(2);
    const repairId = res.body.sla_repair_id;
    expect(repairId).toMatch(/^[0-9a-f-]{36}$/);

    const repair = await eventually(async () => {
      const r = await call(h, 'GET', `/api/v1/sla-repairs/${repairId}`, { token: agent });
      return r.body.status === 'completed' && r.body;
    });
    expect(repair).toMatchObject({ policy_key: rule.id, policy_version: 2, total: 2, done: 2, skipped: 0, failed: 0 });
    expect(repair.finished_at).not.toBeNull();
    for (const t of open) {
      const sla = await ticketSla(t.id);
      expect(sla.policy).toEqual({ rule_id: rule.id, name: 'Printers', version: 2 });
      expect(sla.assign.target_seconds).toBe(2_000);
      const changed = sla.timeline.filter((e: { kind: string }) => e.kind === 'target_changed');
      expect(changed.map((e: { detail: string }) => e.detail)).toEqual(['3000s → 2000s', '30000s → 20000s']);
      expect(changed[0].elapsed_seconds).toBeGreaterThanOrEqual(0);
      expect(Date.parse(changed[0].at)).toBeGreaterThan(Date.parse(sla.timeline[0].at)); // started earlier: elapsed carried, not restarted
      const audit = (await call(h, 'GET', `/api/v1/tickets/${t.id}/audit-log`, { token: admin })).body;
      const items = Array.isArray(audit) ? audit : audit.items;
      expect(items.filter((a: { action: string }) => a.action === 'sla_policy_applied')).toHaveLength(1);
    }
    expect((await ticketSla(resolved.id)).policy.version).toBe(1);
    expect((await ticketSla(elsewhere.id)).policy.rule_id).toBeNull();

    // a second run of the same version finds nothing left to do
    const again = await call(h, 'PUT', `/api/v1/sla-policies/medium?apply_to_open=true`, {
      token: admin,
      body: { assign_target_seconds: 7_000, resolve_target_seconds: 80_000 },
    });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ priority: 'medium', version: 2 });
    const defaults = await eventually(async () => {
      const r = await call(h, 'GET', `/api/v1/sla-repairs/${again.body.sla_repair_id}`, { token: admin });
      return r.body.status === 'completed' && r.body;
    });
    // the default policy's open medium tickets: those created in this file outside a rule
    expect(defaults.policy_key).toBe('default:medium');
    expect(defaults.failed).toBe(0);
    expect(defaults.done).toBe(defaults.total);
    expect(defaults.done).toBeGreaterThanOrEqual(1);
    expect((await ticketSla(open[0].id)).policy.rule_id).toBe(rule.id); // on a rule: untouched by the default's repair
    expect((await call(h, 'GET', `/api/v1/sla-repairs/${randomUUID()}`, { token: admin })).status).toBe(404);
  });

  it('without apply_to_open an edit leaves running tickets alone', async () => {
    const [rule] = (await call(h, 'GET', '/api/v1/sla-rules', { token: admin })).body;
    const t = await create({ assigned_group_id: printers.id });
    const res = await call(h, 'PUT', `/api/v1/sla-rules/${rule.id}`, {
      token: admin,
      body: { name: rule.name, conditions: rule.conditions, targets: { medium: T(1_000, 10_000) } },
    });
    expect(res.body.sla_repair_id).toBeUndefined();
    expect((await ticketSla(t.id)).policy.version).toBe(2);
    expect((await ticketSla(t.id)).assign.target_seconds).toBe(2_000);
  });
});
