/**
 * An SLA signal whose write the database refuses for good must not take the ticket down: the
 * workflow keeps running, changes are answered (422 while the signal cannot be written, since each
 * change records due signals first), and once the cause is gone the signal and the change land.
 * The refusal is made real with a CHECK constraint on audit_log (a database of this file's own).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/models/index.js';
import { ticketWorkflowId } from '../../workflows/definitions.js';
import { eventually } from '../helpers/eventually.js';
import { signedIn } from '../helpers/factories.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let token: string;
beforeAll(async () => {
  h = await startHarness({ scratch: 'sla-write-failures' });
  token = (await signedIn(h, 'admin')).token;
  // critical: at risk after 1 s, breached after 2 s
  const put = await call(h, 'PUT', '/api/v1/sla-policies/critical', {
    token,
    body: { assign_target_seconds: 2, resolve_target_seconds: 3_600, at_risk_percent: 50 },
  });
  expect(put.status).toBe(200);
});
afterAll(() => h.stop());

describe('an SLA signal write refused for good', () => {
  it('leaves the workflow running and the ticket usable; the signal lands once the cause is gone', async () => {
    await h.db.raw(`alter table audit_log add constraint test_refuse_sla check (action not like 'sla_%') not valid`);
    const created = await call(h, 'POST', '/api/v1/tickets', { token, body: { title: 'Breach me', priority: 'critical' } });
    expect(created.status).toBe(201);
    const handle = h.temporal.client.workflow.getHandle(ticketWorkflowId(created.body.id));

    // the signal's write fails (non-retryable): a local activity's failure (its timer woke it,
    // since 'sla-local-writes') or a regular one's (a change found it due) …
    const failedWrite = (e: {
      activityTaskFailedEventAttributes?: unknown;
      markerRecordedEventAttributes?: { markerName?: string | null; failure?: unknown } | null;
    }) =>
      Boolean(e.activityTaskFailedEventAttributes) ||
      (e.markerRecordedEventAttributes?.markerName === 'core_local_activity' && Boolean(e.markerRecordedEventAttributes.failure));
    await eventually(async () => (await handle.fetchHistory()).events?.some(failedWrite), 30_000);
    // … and the ticket lives on: changes are answered (the due signal comes first and is refused)
    expect((await handle.describe()).status.name).toBe('RUNNING');
    const refused = await call(h, 'PATCH', `/api/v1/tickets/${created.body.id}`, { token, body: { tags: ['a'] } });
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatchObject({ code: 'unprocessable_change', details: { kind: 'constraint' } });
    expect((await handle.describe()).status.name).toBe('RUNNING');

    await h.db.raw('alter table audit_log drop constraint test_refuse_sla');
    // both signals are due before the next change (breach at created + 2 s), however fast we got here
    const breachDue = Date.parse(created.body.created_at) + 2_000;
    await eventually(async () => Date.now() > breachDue + 100, 5_000);
    const applied = await call(h, 'PATCH', `/api/v1/tickets/${created.body.id}`, { token, body: { tags: ['b'] } });
    expect(applied.status).toBe(200);
    expect(applied.body.tags).toEqual(['b']);
    const actions = (await AuditLog.query(h.db).where({ ticketId: created.body.id })).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['created', 'sla_at_risk', 'sla_breached', 'updated']));
  }, 60_000);
});
