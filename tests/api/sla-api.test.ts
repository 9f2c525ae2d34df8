/**
 * SLA policies, business calendars and the SLA dashboard over HTTP. On a database of its own:
 * it rewrites policies and counts every ticket.
 */
import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ticket } from '../../src/models/index.js';
import { createGroup, createUser, ensureSlaPolicies, signedIn } from '../helpers/factories.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let admin: string;
let manager: string;
let agent: string;

beforeAll(async () => {
  h = await startHarness({ scratch: 'sla_api', env: { RATE_LIMIT_PER_MINUTE: '100000' } });
  await ensureSlaPolicies(h.db);
  [admin, manager, agent] = await Promise.all([signedIn(h, 'admin'), signedIn(h, 'manager'), signedIn(h, 'agent')]).then((s) =>
    s.map((x) => x.token),
  );
});
afterAll(async () => {
  await h?.stop();
});

const office = {
  name: 'Berlin office',
  timezone: 'Europe/Berlin',
  weekly_hours: Object.fromEntries(
    ['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [
      d,
      [
        { start: '09:00', end: '12:00' },
        { start: '13:00', end: '17:00' },
      ],
    ]),
  ),
  holidays: ['2026-12-25', '2026-12-24'],
};

describe('SLA policies', () => {
  it('lists every priority, most urgent first, to anyone signed in', async () => {
    const res = await call(h, 'GET', '/api/v1/sla-policies', { token: agent });
    expect(res.status).toBe(200);
    expect(res.body.map((p: { priority: string }) => p.priority)).toEqual(['critical', 'high', 'medium', 'low']);
    expect(res.body[0]).toMatchObject({
      assign_target_seconds: 900,
      resolve_target_seconds: 14_400,
      at_risk_percent: 80,
      calendar_id: null,
    });
    expect((await call(h, 'GET', '/api/v1/sla-policies')).status).toBe(401);
  });

  it('admins replace a policy; others may not; bad values are 422s', async () => {
    const body = { assign_target_seconds: 120, resolve_target_seconds: 3600, at_risk_percent: 75 };
    expect((await call(h, 'PUT', '/api/v1/sla-policies/low', { token: manager, body })).status).toBe(403);
    const res = await call(h, 'PUT', '/api/v1/sla-policies/low', { token: admin, body });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ priority: 'low', ...body, calendar_id: null });
    for (const bad of [
      { ...body, assign_target_seconds: 0 },
      { ...body, resolve_target_seconds: 1.5 },
      { ...body, at_risk_percent: 100 },
      { ...body, calendar_id: randomUUID() },
      { ...body, extra: true },
      { resolve_target_seconds: 10 },
    ]) {
      const r = await call(h, 'PUT', '/api/v1/sla-policies/low', { token: admin, body: bad });
      expect(r.status, JSON.stringify(bad)).toBe(422);
    }
    expect((await call(h, 'PUT', '/api/v1/sla-policies/urgent', { token: admin, body })).status).toBe(422);
  });

  it('a policy change applies to new tickets; running ones keep their targets', async () => {
    const before = await call(h, 'POST', '/api/v1/tickets', { token: admin, body: { title: 'Old terms', priority: 'high' } });
    await call(h, 'PUT', '/api/v1/sla-policies/high', { token: admin, body: { assign_target_seconds: 77, resolve_target_seconds: 7777 } });
    const after = await call(h, 'POST', '/api/v1/tickets', { token: admin, body: { title: 'New terms', priority: 'high' } });
    expect(before.body.sla.assign.target_seconds).toBe(1800);
    expect(after.body.sla).toMatchObject({ assign: { target_seconds: 77 }, resolve: { target_seconds: 7777 } });
    const reread = await call(h, 'GET', `/api/v1/tickets/${before.body.id}`, { token: admin });
    expect(reread.body.sla.assign.target_seconds).toBe(1800);
  });
  it('refuses targets a calendar could not reach within ten years (422 naming each field, nothing written), at PUT policy and PUT calendar', async () => {
    const oneMinute = { ...office, name: 'One minute a week', weekly_hours: { mon: [{ start: '09:00', end: '09:01' }] }, holidays: [] };
    const calendar = await call(h, 'POST', '/api/v1/business-calendars', { token: admin, body: oneMinute });
    expect(calendar.status).toBe(201);
    const policy = async () =>
      (await call(h, 'GET', '/api/v1/sla-policies', { token: admin })).body.find((p: { priority: string }) => p.priority === 'low');
    const before = await policy();
    // the case: a year of business time at one minute a week is 8,784 years away
    const refused = await call(h, 'PUT', '/api/v1/sla-policies/low', {
      token: admin,
      body: { assign_target_seconds: 3600, resolve_target_seconds: 366 * 24 * 3600, calendar_id: calendar.body.id },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error.details.map((d: { path: string }) => d.path)).toEqual(['resolve_target_seconds']);
    expect(refused.body.error.details[0].message).toMatch(/One minute a week/);
    expect(await policy()).toEqual(before);
    // an hour of business time is 60 weeks away: accepted
    expect(
      (
        await call(h, 'PUT', '/api/v1/sla-policies/low', {
          token: admin,
          body: { assign_target_seconds: 60, resolve_target_seconds: 3600, calendar_id: calendar.body.id },
        })
      ).status,
    ).toBe(200);
    // office hours carry the largest target the API takes (about five years away)
    const widened = await call(h, 'PUT', `/api/v1/business-calendars/${calendar.body.id}`, {
      token: admin,
      body: { ...office, name: 'One minute a week' },
    });
    expect(widened.status).toBe(200);
    expect(
      (
        await call(h, 'PUT', '/api/v1/sla-policies/low', {
          token: admin,
          body: { assign_target_seconds: 3600, resolve_target_seconds: 366 * 24 * 3600, calendar_id: calendar.body.id },
        })
      ).status,
    ).toBe(200);
    // narrowing the calendar under a policy that uses it would strand that policy
    const narrowed = await call(h, 'PUT', `/api/v1/business-calendars/${calendar.body.id}`, { token: admin, body: oneMinute });
    expect(narrowed.status).toBe(422);
    // (an hour at one minute a week is 60 weeks away: only the year-long target is refused)
    expect(narrowed.body.error.details.map((d: { path: string }) => d.path)).toEqual(['policies.low.resolve_target_seconds']);
    expect((await call(h, 'GET', `/api/v1/business-calendars/${calendar.body.id}`, { token: admin })).body.weekly_hours.mon).toHaveLength(
      2,
    );
    // holidays count: mornings only carry the year-long target (about 8.4 years), but not with 1,000 holidays ahead
    const mornings = {
      ...office,
      name: 'One minute a week',
      weekly_hours: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, [{ start: '09:00', end: '13:00' }]])),
    };
    expect((await call(h, 'PUT', `/api/v1/business-calendars/${calendar.body.id}`, { token: admin, body: mornings })).status).toBe(200);
    const holidays = Array.from({ length: 1000 }, (_, i) => new Date(Date.UTC(2030, 0, 1) + i * 86_400_000).toISOString().slice(0, 10));
    const closed = await call(h, 'PUT', `/api/v1/business-calendars/${calendar.body.id}`, {
      token: admin,
      body: { ...mornings, holidays },
    });
    expect(closed.status).toBe(422);
    expect(closed.body.error.details.map((d: { path: string }) => d.path)).toEqual(['policies.low.resolve_target_seconds']);
    await call(h, 'PUT', '/api/v1/sla-policies/low', { token: admin, body: { assign_target_seconds: 120, resolve_target_seconds: 3600 } });
  });

  it("a year-long target under office hours (the issue's calendar): the ticket reads and changes normally, its deadline in business hours", async () => {
    const calendar = await call(h, 'POST', '/api/v1/business-calendars', {
      token: admin,
      body: {
        ...office,
        name: 'Long haul',
        weekly_hours: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, [{ start: '09:00', end: '17:00' }]])),
      },
    });
    await call(h, 'PUT', '/api/v1/sla-policies/low', {
      token: admin,
      body: { assign_target_seconds: 366 * 24 * 3600, resolve_target_seconds: 366 * 24 * 3600, calendar_id: calendar.body.id },
    });
    try {
      const created = await call(h, 'POST', '/api/v1/tickets', { token: admin, body: { title: 'Long haul', priority: 'low' } });
      expect(created.status).toBe(201);
      const changed = await call(h, 'PATCH', `/api/v1/tickets/${created.body.id}`, { token: admin, body: { status: 'paused' } });
      expect(changed.status).toBe(200);
      expect((await call(h, 'PATCH', `/api/v1/tickets/${created.body.id}`, { token: admin, body: { status: 'open' } })).status).toBe(200);
      const read = await call(h, 'GET', `/api/v1/tickets/${created.body.id}`, { token: admin });
      expect(read.status).toBe(200);
      const due = DateTime.fromISO(read.body.sla.resolve.due_at, { zone: 'Europe/Berlin' });
      expect(due.weekday).toBeLessThanOrEqual(5);
      expect(due.hour * 60 + due.minute).toBeGreaterThanOrEqual(9 * 60);
      expect(due.hour * 60 + due.minute).toBeLessThanOrEqual(17 * 60);
      const years = (due.toMillis() - Date.parse(created.body.created_at)) / (365 * 86_400_000);
      expect(years).toBeGreaterThan(4);
      expect(years).toBeLessThan(5);
      const live = await call(h, 'GET', `/api/v1/tickets/${created.body.id}/sla`, { token: admin });
      expect(live.body).toMatchObject({ source: 'workflow', resolve: { due_at: read.body.sla.resolve.due_at } });
    } finally {
      await call(h, 'PUT', '/api/v1/sla-policies/low', {
        token: admin,
        body: { assign_target_seconds: 120, resolve_target_seconds: 3600 },
      });
    }
  });
});

describe('business calendars', () => {
  it('create, read, replace and delete (admin), with clear 4xx errors', async () => {
    expect((await call(h, 'POST', '/api/v1/business-calendars', { token: manager, body: office })).status).toBe(403);
    const created = await call(h, 'POST', '/api/v1/business-calendars', { token: admin, body: { ...office, name: 'Scratch' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Scratch', timezone: 'Europe/Berlin', holidays: ['2026-12-24', '2026-12-25'] });
    const id = created.body.id;
    expect((await call(h, 'GET', `/api/v1/business-calendars/${id}`, { token: agent })).body.weekly_hours.mon).toHaveLength(2);
    expect((await call(h, 'GET', '/api/v1/business-calendars', { token: agent })).body.map((c: { id: string }) => c.id)).toContain(id);
    const replaced = await call(h, 'PUT', `/api/v1/business-calendars/${id}`, {
      token: admin,
      body: { ...office, name: 'Scratch 2', timezone: 'Asia/Tokyo' },
    });
    expect(replaced.body).toMatchObject({ name: 'Scratch 2', timezone: 'Asia/Tokyo' });
    expect((await call(h, 'POST', '/api/v1/business-calendars', { token: admin, body: { ...office, name: 'Scratch 2' } })).status).toBe(
      409,
    );

    const bad = await call(h, 'POST', '/api/v1/business-calendars', {
      token: admin,
      body: {
        ...office,
        name: 'Bad',
        timezone: 'Mars/Olympus',
        weekly_hours: { mon: [{ start: '17:00', end: '09:00' }] },
        holidays: ['someday'],
      },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual([
      'holidays.0',
      'timezone',
      'weekly_hours',
      'weekly_hours.mon.0',
    ]);
    expect(
      (await call(h, 'POST', '/api/v1/business-calendars', { token: admin, body: { ...office, weekly_hours: { someday: [] } } })).status,
    ).toBe(422);

    // in use by a policy: 409 until the policy points elsewhere
    await call(h, 'PUT', '/api/v1/sla-policies/medium', {
      token: admin,
      body: { assign_target_seconds: 7200, resolve_target_seconds: 86_400, calendar_id: id },
    });
    const inUse = await call(h, 'DELETE', `/api/v1/business-calendars/${id}`, { token: admin });
    expect(inUse.status).toBe(409);
    expect(inUse.body.error).toMatchObject({ code: 'calendar_in_use', details: { priorities: ['medium'] } });
    await call(h, 'PUT', '/api/v1/sla-policies/medium', {
      token: admin,
      body: { assign_target_seconds: 7200, resolve_target_seconds: 86_400 },
    });
    expect((await call(h, 'DELETE', `/api/v1/business-calendars/${id}`, { token: admin })).status).toBe(204);
    expect((await call(h, 'GET', `/api/v1/business-calendars/${id}`, { token: admin })).status).toBe(404);
  });

  it('a ticket under a calendar counts business time only and its deadline lands in business hours', async () => {
    const calendar = await call(h, 'POST', '/api/v1/business-calendars', { token: admin, body: office });
    await call(h, 'PUT', '/api/v1/sla-policies/critical', {
      token: admin,
      body: { assign_target_seconds: 3600, resolve_target_seconds: 8 * 3600, calendar_id: calendar.body.id },
    });
    const t = await call(h, 'POST', '/api/v1/tickets', { token: admin, body: { title: 'Office hours', priority: 'critical' } });
    const live = await call(h, 'GET', `/api/v1/tickets/${t.body.id}/sla`, { token: admin });
    expect(live.body.calendar).toMatchObject({ name: 'Berlin office', timezone: 'Europe/Berlin' });
    const due = new Date(live.body.assign.due_at);
    const local = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Berlin',
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).formatToParts(due);
    const part = (type: string) => local.find((p) => p.type === type)!.value;
    const minutes = Number(part('hour')) * 60 + Number(part('minute'));
    expect(['Mon', 'Tue', 'Wed', 'Thu', 'Fri']).toContain(part('weekday'));
    expect((minutes > 9 * 60 && minutes <= 12 * 60) || (minutes > 13 * 60 && minutes <= 17 * 60)).toBe(true);
    await call(h, 'PUT', '/api/v1/sla-policies/critical', {
      token: admin,
      body: { assign_target_seconds: 900, resolve_target_seconds: 14_400 },
    });
  });
});

describe('GET /tickets/{id}/sla', () => {
  it('answers for visible tickets only, by UUID or number', async () => {
    const t = await call(h, 'POST', '/api/v1/tickets', { token: admin, body: { title: 'Explain me', priority: 'medium' } });
    const byNumber = await call(h, 'GET', `/api/v1/tickets/${t.body.ticket_number}/sla`, { token: admin });
    expect(byNumber.status).toBe(200);
    expect(byNumber.body).toMatchObject({
      ticket_id: t.body.id,
      source: 'workflow',
      assign: { state: 'running' },
      resolve: { state: 'running' },
    });
    expect(byNumber.body.timeline.map((e: { kind: string }) => e.kind)).toEqual(['started', 'started']);
    expect((await call(h, 'GET', `/api/v1/tickets/${t.body.id}/sla`, { token: agent })).status).toBe(404);
    expect((await call(h, 'GET', `/api/v1/tickets/ASM-99999999/sla`, { token: admin })).status).toBe(404);
  });

  it('answers from the row when no worker is running (no timeline then)', async () => {
    const t = await call(h, 'POST', '/api/v1/tickets', { token: admin, body: { title: 'Workers away', priority: 'low' } });
    await h.worker!.stop();
    try {
      const res = await call(h, 'GET', `/api/v1/tickets/${t.body.id}/sla`, { token: admin });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        source: 'database',
        timeline: [],
        assign: { state: 'running', target_seconds: t.body.sla.assign.target_seconds },
      });
    } finally {
      await h.startWorker();
    }
  }, 30_000);
});

describe('GET /dashboard/sla', () => {
  it('computes MTTA, MTTR without paused time, and breach rates by group and priority', async () => {
    // Rows written directly with known instants: this checks the SQL, not the workflow.
    const user = await createUser(h.db, { role: 'agent' });
    const group = await createGroup(h.db, [user]);
    const day = new Date('2020-03-02T00:00:00Z').getTime();
    const at = (s: number) => new Date(day + s * 1000);
    const row = (i: number, attrs: Partial<Ticket>) =>
      Ticket.query(h.db).insert({
        id: randomUUID(),
        title: `Dash ${i}`,
        priority: 'high',
        status: 'open',
        version: 1,
        createdAt: at(0),
        updatedAt: at(0),
        ...attrs,
      } as Partial<Ticket>);
    await row(1, { assignedGroupId: group.id, firstAssignedAt: at(60), status: 'resolved', resolvedAt: at(1000), totalPausedSeconds: 400 });
    await row(2, {
      assignedGroupId: group.id,
      firstAssignedAt: at(180),
      status: 'resolved',
      resolvedAt: at(2000),
      totalPausedSeconds: 0,
      slaBreached: true,
      slaResolveBreachedAt: at(1800),
    });
    await row(3, { priority: 'low', slaBreached: true, slaAssignBreachedAt: at(100) });
    await row(4, { priority: 'low', createdAt: at(-86_400), updatedAt: at(-86_400) }); // the day before: outside the range

    const res = await call(h, 'GET', '/api/v1/dashboard/sla?date_from=2020-03-02&date_to=2020-03-02', { token: manager });
    expect(res.status).toBe(200);
    expect(res.body.overall).toEqual({
      tickets: 3,
      assigned: 2,
      resolved: 2,
      mtta_seconds: 120,
      mttr_seconds: 1300,
      business_mtta_seconds: null, // no stored clocks on these rows (see tests/api/sla-preview.test.ts)
      business_mttr_seconds: null,
      breached: 2,
      assign_breached: 1,
      resolve_breached: 1,
      assign_breaches: 0, // no breach events on these rows
      resolve_breaches: 0,
      breach_rate: 0.6667,
    });
    expect(res.body.by_group).toContainEqual({
      group_id: group.id,
      group_name: group.name,
      tickets: 2,
      assigned: 2,
      resolved: 2,
      mtta_seconds: 120,
      mttr_seconds: 1300,
      business_mtta_seconds: null,
      business_mttr_seconds: null,
      breached: 1,
      assign_breached: 0,
      resolve_breached: 1,
      assign_breaches: 0,
      resolve_breaches: 0,
      breach_rate: 0.5,
    });
    expect(res.body.by_priority).toContainEqual(
      expect.objectContaining({ priority: 'low', tickets: 1, breach_rate: 1, mtta_seconds: null, mttr_seconds: null }),
    );

    const filtered = await call(h, 'GET', `/api/v1/dashboard/sla?date_from=2020-03-01&date_to=2020-03-02&priority=low`, { token: admin });
    expect(filtered.body.overall).toMatchObject({ tickets: 2, breached: 1 });
    const byGroup = await call(h, 'GET', `/api/v1/dashboard/sla?group_id=${group.id}`, { token: admin });
    expect(byGroup.body.overall.tickets).toBe(2);

    expect((await call(h, 'GET', '/api/v1/dashboard/sla', { token: agent })).status).toBe(403);
    const backwards = await call(h, 'GET', '/api/v1/dashboard/sla?date_from=2020-03-05&date_to=2020-03-01', { token: admin });
    expect(backwards.status).toBe(422);
    expect(backwards.body.error.details).toEqual([{ in: 'query', path: 'date_to', message: 'must be after date_from.' }]);
    expect((await call(h, 'GET', '/api/v1/dashboard/sla?date_from=yesterday', { token: admin })).status).toBe(422);
    expect((await call(h, 'GET', '/api/v1/dashboard/sla?priority=urgent', { token: admin })).status).toBe(422);
  });
});
