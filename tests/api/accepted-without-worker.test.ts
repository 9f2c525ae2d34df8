/**
 * While no worker runs: a create answered 202 keeps the SLA terms in force when it was accepted,
 * and a change that cannot be confirmed is a 503 with Retry-After.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ticket } from '../../src/models/index.js';
import { eventually } from '../helpers/eventually.js';
import { ensureSlaPolicies, signedIn } from '../helpers/factories.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let token: string;
beforeAll(async () => {
  // SLA policies change here: a database of its own
  h = await startHarness({ worker: false, confirmWaitMs: 3_000, scratch: 'accepted-without-worker' });
  await ensureSlaPolicies(h.db); // high: assign 1,800 s, resolve 28,800 s
  token = (await signedIn(h, 'admin')).token;
});
afterAll(() => h.stop());

const row = (id: string): Promise<Ticket> => eventually(async () => Ticket.query(h.db).findById(id), 60_000);

describe('accepted while no worker runs', () => {
  it('a create answered 202 runs under the SLA policy in force when it was accepted', async () => {
    const accepted = await call(h, 'POST', '/api/v1/tickets', {
      token,
      body: { title: 'Accepted under the old policy', priority: 'high' },
    });
    expect(accepted.status).toBe(202);
    const put = await call(h, 'PUT', '/api/v1/sla-policies/high', {
      token,
      body: { assign_target_seconds: 60, resolve_target_seconds: 120, at_risk_percent: 50 },
    });
    expect(put.status).toBe(200);

    await h.startWorker();
    const old = await row(accepted.body.id);
    expect(old).toMatchObject({ slaAssignTargetSeconds: 1_800, slaResolveTargetSeconds: 28_800 });
    expect(old.slaState?.atRiskPercent).toBe(80);

    // control: a create accepted after the change runs under the new policy
    const later = await call(h, 'POST', '/api/v1/tickets', { token, body: { title: 'Under the new policy', priority: 'high' } });
    expect([201, 202]).toContain(later.status);
    expect(await row(later.body.id)).toMatchObject({ slaAssignTargetSeconds: 60, slaResolveTargetSeconds: 120 });
  }, 90_000);

  it('a change no worker confirms is a 503 change_not_confirmed with Retry-After', async () => {
    if (!h.worker) await h.startWorker();
    const created = await call(h, 'POST', '/api/v1/tickets', { token, body: { title: 'Then the worker stops', priority: 'low' } });
    await row(created.body.id);
    await h.worker!.stop();
    const res = await call(h, 'PATCH', `/api/v1/tickets/${created.body.id}`, { token, body: { title: 'unconfirmed' } });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('change_not_confirmed');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  }, 90_000);
});
