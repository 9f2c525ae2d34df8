/**
 * Breach history per cycle on the real dev server: a ticket breaches its resolve target, is
 * resolved and reopened (a new cycle, breached again at once); GET /tickets/{id}/sla lists both
 * breaches, the dashboard counts both, and the what-if replay of that real history under the same
 * terms finds exactly the breaches the workflow recorded — and none under looser ones.
 *
 * On a database of its own: it sets a short SLA policy and counts every ticket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Event, Ticket } from '../../src/models/index.js';
import { eventually } from '../helpers/eventually.js';
import { call, type Harness } from '../helpers/harness.js';
import { startSlaHarness } from '../helpers/sla-harness.js';

let h: Harness;
let token: string;
let agentId: string;
let groupId: string;

const long = { assign_target_seconds: 600, resolve_target_seconds: 600, at_risk_percent: 80 };
const POLICIES = {
  critical: long,
  high: { assign_target_seconds: 600, resolve_target_seconds: 2, at_risk_percent: 50 },
  medium: long,
  low: long,
};

beforeAll(async () => {
  ({ h, token, agentId, groupId } = await startSlaHarness('sla_breach_history', POLICIES));
});
afterAll(async () => {
  await h?.stop();
});

const patch = async (id: string, body: Record<string, unknown>) => {
  const res = await call(h, 'PATCH', `/api/v1/tickets/${id}`, { token, body });
  expect(res.status).toBe(200);
  return res.body;
};
const breachEvents = (ticketId: string) => Event.query(h.db).where({ ticketId, type: 'ticket.sla_breached' }).orderBy('seq');

describe('breaches per cycle', () => {
  it('a reopen breaches again in a new cycle: the ticket, the dashboard and the what-if replay all count two', async () => {
    const t = (
      await call(h, 'POST', '/api/v1/tickets', {
        token,
        body: { title: 'Breaches twice', priority: 'high', assigned_group_id: groupId, assigned_user_id: agentId },
      })
    ).body;
    await eventually(async () => (await breachEvents(t.id)).length === 1, 20_000);
    await patch(t.id, { status: 'resolved' });
    await patch(t.id, { status: 'open' }); // past the 2 s target already: breaches at once in cycle 2
    await eventually(async () => (await breachEvents(t.id)).length === 2, 20_000);
    await patch(t.id, { status: 'resolved' });

    const sla = await call(h, 'GET', `/api/v1/tickets/${t.id}/sla`, { token });
    expect(sla.status).toBe(200);
    expect(sla.body.source).toBe('workflow');
    expect(sla.body.breaches).toEqual([
      expect.objectContaining({ metric: 'resolve', cycle: 1, target_seconds: 2 }),
      expect.objectContaining({ metric: 'resolve', cycle: 2, target_seconds: 2 }),
    ]);
    // the same deadlines the timeline explains
    const timelineBreaches = sla.body.timeline.filter((e: { kind: string }) => e.kind === 'breached').map((e: { at: string }) => e.at);
    expect(sla.body.breaches.map((b: { due_at: string }) => b.due_at)).toEqual(timelineBreaches);

    const dash = await call(h, 'GET', '/api/v1/dashboard/sla?priority=high', { token });
    // breached in its current cycle: one ticket; breaches counted per cycle: two
    expect(dash.body.overall).toMatchObject({ tickets: 1, resolved: 1, resolve_breached: 1, resolve_breaches: 2, assign_breaches: 0 });
    // 24×7: business time to resolve is the resolve clock — open time of both cycles, not the wall span
    const row = await Ticket.query(h.db).findById(t.id).throwIfNotFound();
    expect(dash.body.overall.business_mttr_seconds).toBe(Math.round(row.slaState!.resolve.elapsedMs / 1000));
    expect(dash.body.overall.business_mttr_seconds).toBeLessThanOrEqual(dash.body.overall.mttr_seconds); // the resolved stretch is left out
    expect(dash.body.overall.business_mtta_seconds).toBe(0); // created assigned

    const replay = (resolve: number) =>
      call(h, 'POST', '/api/v1/sla-preview/what-if', {
        token,
        body: { policy: { assign_target_seconds: 600, resolve_target_seconds: resolve, at_risk_percent: 50 }, days: 1, priority: 'high' },
      });
    const same = await replay(2);
    expect(same.status).toBe(200);
    expect(same.body.actual).toEqual({ breached: 1, assign_breached: 0, resolve_breached: 1, assign_breaches: 0, resolve_breaches: 2 });
    expect(same.body.what_if).toEqual(same.body.actual);
    expect(same.body.sample).toEqual([]);
    const looser = await replay(3600);
    expect(looser.body.what_if).toMatchObject({ breached: 0, resolve_breaches: 0 });
    expect(looser.body.changed).toEqual({ newly_breached: 0, no_longer_breached: 1 });
    expect(looser.body.sample).toEqual([
      {
        ticket_number: t.ticket_number,
        priority: 'high',
        actual: { assign: false, resolve: true },
        what_if: { assign: false, resolve: false },
      },
    ]);
  }, 60_000);
});
