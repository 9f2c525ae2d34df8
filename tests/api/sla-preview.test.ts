/**
 * SLA preview, what-if, breach history per cycle and business-time MTTA/MTTR over HTTP. On a
 * database of its own: the what-if and the dashboard count every ticket. Histories are written as
 * rows (ticket, its audit log's status entries, its breach events) with known instants: these
 * tests check the loading and the arithmetic; the workflow that writes such rows has its own.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, Ticket } from '../../src/models/index.js';
import { meet, resolveSla, startSla, fireSignal, dueSignals, type SlaTerms, type TicketSla } from '../../workflows/sla/clock.js';
import { ensureSlaPolicies, signedIn } from '../helpers/factories.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let admin: string;
let manager: string;
let agent: string;
let calendarId: string;

const berlinHours = Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, [{ start: '09:00', end: '17:00' }]]));

beforeAll(async () => {
  h = await startHarness({ scratch: 'sla_preview', worker: false, env: { RATE_LIMIT_PER_MINUTE: '100000' } });
  await ensureSlaPolicies(h.db);
  [admin, manager, agent] = await Promise.all([signedIn(h, 'admin'), signedIn(h, 'manager'), signedIn(h, 'agent')]).then((s) =>
    s.map((x) => x.token),
  );
  const cal = await call(h, 'POST', '/api/v1/business-calendars', {
    token: admin,
    body: { name: 'Berlin 9-17', timezone: 'Europe/Berlin', weekly_hours: berlinHours, holidays: ['2026-10-27'] },
  });
  expect(cal.status).toBe(201);
  calendarId = cal.body.id;
});
afterAll(async () => {
  await h?.stop();
});

describe('POST /sla-preview', () => {
  it("previews a stored policy's deadlines for anyone signed in, pauses included", async () => {
    const res = await call(h, 'POST', '/api/v1/sla-preview', {
      token: agent,
      body: {
        policy: { priority: 'critical' },
        start: '2026-11-23T09:00:00Z',
        pauses: [{ from: '2026-11-23T09:10:00Z', to: '2026-11-23T10:10:00Z' }],
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.policy).toEqual({
      assign_target_seconds: 900,
      resolve_target_seconds: 14_400,
      at_risk_percent: 80,
      calendar: null,
      warning_levels: { assign: [{ percent: 80 }], resolve: [{ percent: 80 }] },
      pause_statuses: { assign: ['paused'], resolve: ['paused', 'waiting_on_customer'] },
      policy: { rule_id: null, name: 'default (critical)', version: expect.any(Number) },
    });
    // 10 of the 15 minutes before the pause, 5 after it
    expect(res.body.assign).toMatchObject({
      due_at: '2026-11-23T10:15:00.000Z',
      at_risk_at: '2026-11-23T10:12:00.000Z',
      business_seconds: 900,
      wall_seconds: 4500,
    });
    expect(res.body.resolve.due_at).toBe('2026-11-23T14:00:00.000Z');
    expect(res.body.timeline.map((e: { metric: string; kind: string }) => `${e.metric}:${e.kind}`)).toEqual([
      'assign:started',
      'resolve:started',
      'assign:paused',
      'resolve:paused',
      'assign:resumed',
      'resolve:resumed',
      'assign:at_risk',
      'assign:breached',
      'resolve:at_risk',
      'resolve:breached',
    ]);
  });

  it('previews a draft on a business calendar across the DST change, holidays skipped', async () => {
    const res = await call(h, 'POST', '/api/v1/sla-preview', {
      token: manager,
      body: {
        policy: { assign_target_seconds: 7200, resolve_target_seconds: 3 * 8 * 3600, at_risk_percent: 50, calendar_id: calendarId },
        start: '2026-10-23T16:00:00+02:00', // Friday 16:00 CEST; Sunday leaves summer time; Tuesday is a holiday
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.policy.calendar).toEqual({ id: calendarId, name: 'Berlin 9-17', timezone: 'Europe/Berlin' });
    expect(res.body.assign).toMatchObject({ due_at: '2026-10-26T09:00:00.000Z', at_risk_at: '2026-10-23T15:00:00.000Z' });
    expect(res.body.resolve.due_at).toBe('2026-10-29T15:00:00.000Z'); // 1 h Fri, 8 h Mon, (Tue off), 8 h Wed, 7 h Thu
  });

  it('previews a stored SLA rule, and a draft with warning levels and a wait on the customer (the unified terms)', async () => {
    const rule = await call(h, 'POST', '/api/v1/sla-rules', {
      token: admin,
      body: {
        name: 'VIP preview',
        conditions: { tags_any: ['vip-preview'] },
        targets: { high: { assign_target_seconds: 600, resolve_target_seconds: 3600 } },
        warning_levels: { assign: [{ percent: 50 }, { minutes_before: 1 }] },
        pause_statuses: { assign: ['waiting_on_customer'] },
      },
    });
    expect(rule.status).toBe(201);
    const start = '2026-11-23T09:00:00Z';
    const waiting = [{ from: '2026-11-23T09:01:00Z', to: '2026-11-23T09:11:00Z', status: 'waiting_on_customer' }];
    const stored = await call(h, 'POST', '/api/v1/sla-preview', {
      token: agent,
      body: { policy: { rule_id: rule.body.id, priority: 'high' }, start, pauses: waiting },
    });
    expect(stored.status).toBe(200);
    expect(stored.body.policy).toMatchObject({
      assign_target_seconds: 600,
      warning_levels: { assign: [{ percent: 50 }, { minutes_before: 1 }], resolve: [{ percent: 80 }] },
      pause_statuses: { assign: ['paused', 'waiting_on_customer'], resolve: ['paused', 'waiting_on_customer'] },
      policy: { rule_id: rule.body.id, name: 'VIP preview', version: 1 },
    });
    // the rule stops both clocks while waiting on the customer: 10 min added to each
    expect(stored.body.assign.signals).toEqual([
      { signal: 'at_risk', at: '2026-11-23T09:15:00.000Z', level: '50%' },
      { signal: 'at_risk', at: '2026-11-23T09:19:00.000Z', level: '1 min before' },
      { signal: 'breached', at: '2026-11-23T09:20:00.000Z' },
    ]);
    expect(stored.body.resolve.due_at).toBe('2026-11-23T10:10:00.000Z');
    // a priority the rule has no targets for, and an unknown rule
    for (const policy of [
      { rule_id: rule.body.id, priority: 'low' },
      { rule_id: randomUUID(), priority: 'high' },
    ]) {
      const res = await call(h, 'POST', '/api/v1/sla-preview', { token: agent, body: { policy, start } });
      expect(res.status).toBe(422);
    }
    // a draft: default pause statuses, so waiting on the customer stops resolve only
    const draft = { assign_target_seconds: 600, resolve_target_seconds: 3600, warning_levels: { resolve: [] } };
    const res = await call(h, 'POST', '/api/v1/sla-preview', { token: agent, body: { policy: draft, start, pauses: waiting } });
    expect(res.status).toBe(200);
    expect(res.body.assign.due_at).toBe('2026-11-23T09:10:00.000Z');
    expect(res.body.resolve).toMatchObject({ due_at: '2026-11-23T10:10:00.000Z', at_risk_at: null });
    expect(res.body.policy.policy).toBeNull();
    // a minutes_before level that falls before the start is a 422 naming it
    const bad = await call(h, 'POST', '/api/v1/sla-preview', {
      token: agent,
      body: { policy: { ...draft, warning_levels: { assign: [{ minutes_before: 10 }] } }, start },
    });
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.body.error.details)).toContain('policy.warning_levels.assign.0.minutes_before');
  });

  it('answers 422 for pauses that end before they start or overlap, an unknown calendar, a bad instant, extra fields', async () => {
    const start = '2026-11-23T09:00:00Z';
    const draft = { assign_target_seconds: 60, resolve_target_seconds: 600 };
    const cases: [string, unknown, string][] = [
      ['end before start', { policy: draft, start, pauses: [{ from: '2026-11-23T10:00:00Z', to: '2026-11-23T09:30:00Z' }] }, 'pauses.0.to'],
      [
        'overlapping',
        {
          policy: draft,
          start,
          pauses: [
            { from: '2026-11-23T09:10:00Z', to: '2026-11-23T09:40:00Z' },
            { from: '2026-11-23T09:30:00Z', to: '2026-11-23T09:50:00Z' },
          ],
        },
        'pauses.1.from',
      ],
      ['before start', { policy: draft, start, pauses: [{ from: '2026-11-23T08:00:00Z', to: '2026-11-23T09:30:00Z' }] }, 'pauses.0.from'],
      ['unknown calendar', { policy: { ...draft, calendar_id: randomUUID() }, start }, 'policy.calendar_id'],
      ['bad start', { policy: draft, start: 'monday' }, 'start'],
      ['start out of range', { policy: draft, start: '9999-12-31T23:59:59Z' }, 'start'],
      ['zero target', { policy: { ...draft, assign_target_seconds: 0 }, start }, 'policy'],
      ['unknown priority', { policy: { priority: 'urgent' }, start }, 'policy'],
      ['extra field', { policy: draft, start, extra: 1 }, ''],
    ];
    for (const [what, body, path] of cases) {
      const res = await call(h, 'POST', '/api/v1/sla-preview', { token: admin, body });
      expect(res.status, what).toBe(422);
      expect(res.body.error.code, what).toBe('validation_error');
      if (path) expect(JSON.stringify(res.body.error.details), what).toContain(path);
    }
    expect((await call(h, 'POST', '/api/v1/sla-preview', { body: { policy: draft, start } })).status).toBe(401);
  });
});

/** A ticket row with its history: status changes (seconds after creation) and breach events. */
async function historyTicket(opts: {
  createdAt: number;
  priority?: string;
  firstAssignedAfter?: number | null;
  statuses?: [after: number, from: string, to: string][];
  breaches?: { metric: 'assign' | 'resolve'; cycle: number; after: number; target: number }[];
  deleted?: boolean;
  slaState?: TicketSla;
  resolvedAfter?: number;
  totalPausedSeconds?: number;
  resolveBreachedAfter?: number;
}): Promise<Ticket> {
  const at = (s: number) => new Date(opts.createdAt + s * 1000);
  const statuses = opts.statuses ?? [];
  const final = statuses.at(-1)?.[2] ?? 'open';
  const ticket = await Ticket.query(h.db).insertAndFetch({
    id: randomUUID(),
    title: 'History',
    priority: opts.priority ?? 'high',
    status: final,
    version: 1 + statuses.length,
    createdAt: at(0),
    updatedAt: at(0),
    firstAssignedAt: opts.firstAssignedAfter === undefined || opts.firstAssignedAfter === null ? null : at(opts.firstAssignedAfter),
    resolvedAt: opts.resolvedAfter !== undefined ? at(opts.resolvedAfter) : final === 'resolved' ? at(statuses.at(-1)![0]) : null,
    totalPausedSeconds: opts.totalPausedSeconds ?? 0,
    deletedAt: opts.deleted ? at(10) : null,
    slaState: opts.slaState ?? null,
    slaResolveBreachedAt: opts.resolveBreachedAfter !== undefined ? at(opts.resolveBreachedAfter) : null,
    slaBreached: opts.resolveBreachedAfter !== undefined,
  } as Partial<Ticket>);
  for (const [i, [after, from, to]] of statuses.entries()) {
    await AuditLog.query(h.db).insert({
      ticketId: ticket.id,
      ticketVersion: i + 2,
      actorType: 'user',
      action: 'updated',
      fieldChanged: 'status',
      oldValue: JSON.stringify(from),
      newValue: JSON.stringify(to),
      createdAt: at(after),
    } as Partial<AuditLog>);
  }
  for (const b of opts.breaches ?? []) {
    const id = `evt_${randomBytes(8).toString('hex')}`;
    const due = at(b.after).toISOString();
    const sla = { metric: b.metric, signal: 'breached', due_at: due, cycle: b.cycle, target_seconds: b.target };
    await h.db('events').insert({
      id,
      type: 'ticket.sla_breached',
      ticket_id: ticket.id,
      payload: { id, type: 'ticket.sla_breached', timestamp: due, data: { sla } },
      dedupe_key: `${ticket.id}:${id}`,
      created_at: at(b.after),
    });
  }
  return ticket;
}

describe('POST /sla-preview/what-if', () => {
  const DAY = 86_400_000;
  const now = Date.now();
  let tickets: Record<string, Ticket>;

  beforeAll(async () => {
    tickets = {
      // assigned after 5 min, resolved after 30: breaches nothing
      a: await historyTicket({ createdAt: now - 2 * DAY, firstAssignedAfter: 300, statuses: [[1800, 'open', 'resolved']] }),
      // assigned after 15 min (really breached assign), paused 1000–5000 s: 2000 s on the resolve clock
      b: await historyTicket({
        createdAt: now - 3 * DAY,
        firstAssignedAfter: 900,
        statuses: [
          [1000, 'open', 'paused'],
          [5000, 'paused', 'open'],
          [6000, 'open', 'resolved'],
        ],
        breaches: [{ metric: 'assign', cycle: 1, after: 800, target: 800 }],
      }),
      // untouched for a day (it ran without SLA: no breach recorded)
      c: await historyTicket({ createdAt: now - 1 * DAY }),
      // created assigned; 3000 s, resolved, reopened, 1000 s more: the resolve breach falls in cycle 2
      g: await historyTicket({
        createdAt: now - 4 * DAY,
        firstAssignedAfter: 0,
        statuses: [
          [3000, 'open', 'resolved'],
          [10_000, 'resolved', 'open'],
          [11_000, 'open', 'resolved'],
        ],
        breaches: [{ metric: 'resolve', cycle: 2, after: 10_600, target: 3600 }],
      }),
      low: await historyTicket({ createdAt: now - DAY, priority: 'low', firstAssignedAfter: 10, statuses: [[100, 'open', 'resolved']] }),
      old: await historyTicket({ createdAt: now - 10 * DAY }),
      deleted: await historyTicket({ createdAt: now - DAY, deleted: true }),
    };
  });

  it('replays the window under a draft and compares with the breaches that happened', async () => {
    const res = await call(h, 'POST', '/api/v1/sla-preview/what-if', {
      token: manager,
      body: { policy: { assign_target_seconds: 600, resolve_target_seconds: 3600 }, days: 5 },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ days: 5, priority: null, tickets: 5, ticket_limit: 10_000, truncated: false, sample_limit: 50 });
    expect(res.body.actual).toEqual({ breached: 2, assign_breached: 1, resolve_breached: 1, assign_breaches: 1, resolve_breaches: 1 });
    // b: assign (900 s > 600); c: both (still open); g: resolve in cycle 2 (3000 + 1000 s)
    expect(res.body.what_if).toEqual({ breached: 3, assign_breached: 2, resolve_breached: 2, assign_breaches: 2, resolve_breaches: 2 });
    expect(res.body.changed).toEqual({ newly_breached: 1, no_longer_breached: 0 });
    expect(res.body.sample).toEqual([
      {
        ticket_number: tickets.c!.ticketNumber,
        priority: 'high',
        actual: { assign: false, resolve: false },
        what_if: { assign: true, resolve: true },
      },
    ]);
  });

  it('a looser draft no longer breaches; a priority filter narrows the tickets; a stored policy works too', async () => {
    const looser = await call(h, 'POST', '/api/v1/sla-preview/what-if', {
      token: admin,
      body: { policy: { assign_target_seconds: 1000, resolve_target_seconds: 5000 }, days: 5 },
    });
    expect(looser.body.changed).toEqual({ newly_breached: 1, no_longer_breached: 2 });
    expect(looser.body.sample.map((s: { ticket_number: string }) => s.ticket_number).sort()).toEqual(
      [tickets.b!.ticketNumber, tickets.c!.ticketNumber, tickets.g!.ticketNumber].sort(),
    );
    const low = await call(h, 'POST', '/api/v1/sla-preview/what-if', {
      token: admin,
      body: { policy: { priority: 'low' }, days: 90, priority: 'low' },
    });
    expect(low.body).toMatchObject({ tickets: 1, priority: 'low', what_if: { breached: 0 }, policy: { assign_target_seconds: 28_800 } });
    const wide = await call(h, 'POST', '/api/v1/sla-preview/what-if', {
      token: admin,
      body: { policy: { assign_target_seconds: 600, resolve_target_seconds: 3600 }, days: 11 },
    });
    expect(wide.body.tickets).toBe(6); // the 10-day-old one joins; the deleted one never
  });

  it('agents may not; days out of range, an unknown calendar and a bad priority are 422s', async () => {
    const policy = { assign_target_seconds: 600, resolve_target_seconds: 3600 };
    expect((await call(h, 'POST', '/api/v1/sla-preview/what-if', { token: agent, body: { policy, days: 5 } })).status).toBe(403);
    for (const body of [
      { policy, days: 0 },
      { policy, days: 91 },
      { policy, days: 1.5 },
      { policy },
      { policy: { ...policy, calendar_id: randomUUID() }, days: 5 },
      { policy, days: 5, priority: 'urgent' },
    ]) {
      const res = await call(h, 'POST', '/api/v1/sla-preview/what-if', { token: admin, body });
      expect(res.status, JSON.stringify(body)).toBe(422);
    }
  });
});

describe('breaches per cycle and business-time MTTA/MTTR', () => {
  it('GET /tickets/{id}/sla lists every breach per metric and cycle', async () => {
    const terms: SlaTerms = { assignTargetSeconds: 600, resolveTargetSeconds: 3600, atRiskPercent: 80, calendar: null };
    const created = Date.parse('2026-11-02T08:00:00Z');
    let sla = startSla(terms, created, true).sla;
    for (const d of dueSignals(sla, created + 4000_000)) sla = fireSignal(sla, d, d.at).sla;
    const t = await historyTicket({
      createdAt: created,
      firstAssignedAfter: 0,
      slaState: sla,
      breaches: [
        { metric: 'resolve', cycle: 1, after: 3600, target: 3600 },
        { metric: 'resolve', cycle: 2, after: 9000, target: 3600 },
      ],
    });
    const res = await call(h, 'GET', `/api/v1/tickets/${t.ticketNumber}/sla`, { token: admin });
    expect(res.status).toBe(200);
    expect(res.body.source).toBe('database'); // no worker in this file: the row's clocks
    expect(res.body.breaches).toEqual([
      { metric: 'resolve', cycle: 1, due_at: '2026-11-02T09:00:00.000Z', recorded_at: '2026-11-02T09:00:00.000Z', target_seconds: 3600 },
      { metric: 'resolve', cycle: 2, due_at: '2026-11-02T10:30:00.000Z', recorded_at: '2026-11-02T10:30:00.000Z', target_seconds: 3600 },
    ]);
  });

  it('the dashboard counts breaches per cycle and gives business MTTA/MTTR beside wall-clock', async () => {
    const calendar = {
      id: calendarId,
      name: 'Berlin 9-17',
      timezone: 'Europe/Berlin',
      weeklyHours: berlinHours,
      holidays: [],
      transitions: 'real-time' as const,
    };
    // Friday 2026-10-23 16:00 CEST; assigned Monday 09:30 CET; resolved Monday 12:00 CET
    const friday = Date.parse('2026-10-23T14:00:00Z');
    const business: SlaTerms = { assignTargetSeconds: 86_400, resolveTargetSeconds: 86_400, atRiskPercent: 80, calendar };
    const assignedAt = Date.parse('2026-10-26T08:30:00Z');
    const resolvedAt = Date.parse('2026-10-26T11:00:00Z');
    let sla = startSla(business, friday, false).sla;
    sla = meet({ sla, timeline: [] }, 'assign', assignedAt).sla;
    sla = resolveSla(sla, resolvedAt).sla;
    await historyTicket({
      createdAt: friday,
      priority: 'medium',
      firstAssignedAfter: (assignedAt - friday) / 1000, // 66.5 h wall, 1.5 h business
      statuses: [[(resolvedAt - friday) / 1000, 'open', 'resolved']], // 69 h wall, 4 h business
      slaState: sla,
    });
    // 24×7: business = wall (600 s to assign, 3600 s to resolve), breached in two resolve cycles
    const plain: SlaTerms = { ...business, calendar: null, resolveTargetSeconds: 1000 };
    let sla2 = startSla(plain, friday, false).sla;
    sla2 = meet({ sla: sla2, timeline: [] }, 'assign', friday + 600_000).sla;
    sla2 = resolveSla(sla2, friday + 3_600_000).sla;
    await historyTicket({
      createdAt: friday,
      priority: 'medium',
      firstAssignedAfter: 600,
      statuses: [[3600, 'open', 'resolved']],
      slaState: sla2,
      resolveBreachedAfter: 3000,
      breaches: [
        { metric: 'resolve', cycle: 1, after: 1000, target: 1000 },
        { metric: 'resolve', cycle: 2, after: 3000, target: 1000 },
      ],
    });
    const res = await call(h, 'GET', '/api/v1/dashboard/sla?date_from=2026-10-23&date_to=2026-10-23', { token: manager });
    expect(res.status).toBe(200);
    expect(res.body.overall).toEqual({
      tickets: 2,
      assigned: 2,
      resolved: 2,
      mtta_seconds: (239_400 + 600) / 2,
      mttr_seconds: (248_400 + 3600) / 2,
      business_mtta_seconds: (5400 + 600) / 2,
      business_mttr_seconds: (14_400 + 3600) / 2,
      breached: 1,
      assign_breached: 0,
      resolve_breached: 1,
      assign_breaches: 0,
      resolve_breaches: 2,
      breach_rate: 0.5,
    });
    expect(res.body.by_priority).toContainEqual(
      expect.objectContaining({ priority: 'medium', business_mtta_seconds: 3000, resolve_breaches: 2 }),
    );
  });
});
