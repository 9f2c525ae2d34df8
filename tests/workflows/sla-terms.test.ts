/**
 * SLA terms and instants on the real dev server: a resolved ticket's priority change sets the
 * terms its reopen runs under; a ticket created assigned starts its timeline once; one mutation
 * is one instant in the SLA timeline, the row, its audit entries and its events; and a ticket
 * whose clock cannot be computed fails its own workflow tasks without taking the worker down.
 *
 * On a database of its own: it sets short SLA policies.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, Event, Ticket } from '../../src/models/index.js';
import { ticketWorkflowId } from '../../workflows/definitions.js';
import type { TicketSnapshot } from '../../workflows/ticket-state.js';
import { startSla } from '../../workflows/sla/clock.js';
import { eventually } from '../helpers/eventually.js';
import { call, type Harness } from '../helpers/harness.js';
import { startSlaHarness } from '../helpers/sla-harness.js';

let h: Harness;
let token: string;
let agentId: string;
let groupId: string;

const POLICIES = {
  critical: { assign_target_seconds: 600, resolve_target_seconds: 600, at_risk_percent: 80 },
  high: { assign_target_seconds: 600, resolve_target_seconds: 4, at_risk_percent: 50 },
  medium: { assign_target_seconds: 600, resolve_target_seconds: 600, at_risk_percent: 90 },
  low: { assign_target_seconds: 600, resolve_target_seconds: 600, at_risk_percent: 80 },
} as const;

beforeAll(async () => {
  ({ h, token, agentId, groupId } = await startSlaHarness('sla_terms', POLICIES));
});
afterAll(async () => {
  await h?.stop();
});

const patch = async (id: string, body: Record<string, unknown>) => {
  const res = await call(h, 'PATCH', `/api/v1/tickets/${id}`, { token, body });
  expect(res.status).toBe(200);
  return res.body;
};
type Entry = { at: string; metric: string; kind: string; target_seconds: number; elapsed_seconds: number };
const timeline = async (id: string): Promise<Entry[]> => (await call(h, 'GET', `/api/v1/tickets/${id}/sla`, { token })).body.timeline;

describe.concurrent('SLA terms and instants', () => {
  it('a priority changed while resolved sets the terms the reopened resolve clock runs under (target and at-risk together)', async () => {
    const t = (
      await call(h, 'POST', '/api/v1/tickets', {
        token,
        body: { title: 'Resolved, re-prioritised', priority: 'low', assigned_group_id: groupId, assigned_user_id: agentId },
      })
    ).body;
    await patch(t.id, { status: 'resolved' });
    await patch(t.id, { priority: 'high' });
    const reopenedAt = Date.now();
    await patch(t.id, { status: 'open' });
    const live = await call(h, 'GET', `/api/v1/tickets/${t.id}/sla`, { token });
    expect(live.body).toMatchObject({ at_risk_percent: 50, resolve: { target_seconds: 4, cycle: 2 } });
    const breach = await eventually(async () => {
      const rows = await Event.query(h.db).where({ ticketId: t.id, type: 'ticket.sla_breached' });
      return rows[0];
    }, 20_000);
    expect((breach.payload.data.sla as { target_seconds: number }).target_seconds).toBe(4);
    expect(breach.createdAt.getTime() - reopenedAt).toBeLessThan(15_000);
    const entries = await timeline(t.id);
    expect(entries.find((e) => e.metric === 'resolve' && e.kind === 'target_changed')).toMatchObject({ target_seconds: 4 });
  });

  it('a ticket created assigned starts each clock once in its timeline', async () => {
    const t = (
      await call(h, 'POST', '/api/v1/tickets', {
        token,
        body: { title: 'Born assigned', priority: 'medium', assigned_group_id: groupId, assigned_user_id: agentId },
      })
    ).body;
    const entries = await timeline(t.id);
    expect(entries.map((e) => `${e.metric}:${e.kind}`)).toEqual(['assign:started', 'resolve:started', 'assign:met']);
    expect(new Set(entries.map((e) => e.at))).toEqual(new Set([t.created_at]));
  });

  it('one mutation, one instant: the SLA timeline, updated_at, audit entries and events carry the same', async () => {
    const t = (await call(h, 'POST', '/api/v1/tickets', { token, body: { title: 'One instant', priority: 'medium' } })).body;
    const changed = await patch(t.id, { status: 'paused', title: 'One instant, paused' });
    const paused = (await timeline(t.id)).filter((e) => e.kind === 'paused');
    expect(paused).toHaveLength(2);
    const at = paused[0]!.at;
    expect(paused[1]!.at).toBe(at);
    expect(changed.updated_at).toBe(at);
    expect(changed.paused_at ?? at).toBe(at);
    const row = await Ticket.query(h.db).findById(t.id);
    expect(row!.updatedAt.toISOString()).toBe(at);
    const audit = await AuditLog.query(h.db).where({ ticketId: t.id, ticketVersion: changed.version });
    expect(audit.length).toBeGreaterThanOrEqual(2);
    for (const a of audit) expect(a.createdAt.toISOString()).toBe(at);
    const events = await Event.query(h.db)
      .where({ ticketId: t.id })
      .whereIn('type', ['ticket.updated', 'ticket.paused', 'ticket.status_changed']);
    expect(events.length).toBe(3);
    for (const e of events) {
      expect(e.createdAt.toISOString()).toBe(at);
      expect(e.payload.timestamp).toBe(at);
    }
  });

  it('a ticket whose clock cannot be computed fails its own workflow tasks; the worker serves other tickets meanwhile', async () => {
    const created = (await call(h, 'POST', '/api/v1/tickets', { token, body: { title: 'Poison template', priority: 'medium' } })).body;
    const row = await Ticket.query(h.db).findById(created.id);
    // a copy whose calendar is not a calendar at all (weekly hours missing): every evaluation throws
    const sla = startSla(
      {
        assignTargetSeconds: 600,
        resolveTargetSeconds: 600,
        atRiskPercent: 80,
        calendar: { id: randomUUID(), name: 'broken', timezone: 'Europe/Berlin', weeklyHours: null as never, holidays: [] },
      },
      Date.now(),
      false,
    ).sla;
    const snapshot: TicketSnapshot = {
      ...(row as unknown as TicketSnapshot),
      id: randomUUID(),
      ticketNumber: 'ASM-POISON',
      title: 'Poison',
      createdAt: new Date().toISOString(),
      firstAssignedAt: null,
      resolvedAt: null,
      pausedAt: null,
      totalPausedSeconds: 0,
      deleted: false,
      tags: [],
      version: 1,
      sla,
    };
    const handle = await h.temporal.client.workflow.start('ticketWorkflow', {
      workflowId: ticketWorkflowId(snapshot.id),
      taskQueue: h.config.temporal.taskQueue,
      args: [{ carried: { snapshot, recent: [] } }],
    });
    await eventually(async () => {
      const history = await handle.fetchHistory();
      return history.events!.some((e) => e.workflowTaskFailedEventAttributes);
    }, 20_000);
    // the same worker still runs everyone else's clocks: a 4 s resolve target breaches
    const healthy = (
      await call(h, 'POST', '/api/v1/tickets', {
        token,
        body: { title: 'Healthy', priority: 'high', assigned_group_id: groupId, assigned_user_id: agentId },
      })
    ).body;
    await eventually(
      async () => (await Event.query(h.db).where({ ticketId: healthy.id, type: 'ticket.sla_breached' })).length === 1,
      20_000,
    );
    expect((await call(h, 'PATCH', `/api/v1/tickets/${healthy.id}`, { token, body: { title: 'Still served' } })).status).toBe(200);
    await handle.terminate('test over');
  });
});
