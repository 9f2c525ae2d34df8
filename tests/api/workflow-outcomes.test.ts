/**
 * One outcome mapper for create and mutate (src/commands/tickets/outcome.ts): the workflow failures
 * that reach the API are each a documented 4xx or 503, never a 500.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandContext } from '../../src/commands/context.js';
import { runTicketMutation } from '../../src/commands/tickets/mutate.js';
import { AppError } from '../../src/errors/index.js';
import { Ticket } from '../../src/models/index.js';
import { changeUpdate, ticketWorkflowId } from '../../workflows/definitions.js';
import { eventually } from '../helpers/eventually.js';
import { createGroup, ensureSlaPolicies, signedIn } from '../helpers/factories.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let token: string;
let userId: string;
beforeAll(async () => {
  h = await startHarness({ env: { RATE_LIMIT_PER_MINUTE: '100000' } });
  await ensureSlaPolicies(h.db);
  const me = await signedIn(h, 'admin');
  token = me.token;
  userId = me.user.id;
});
afterAll(() => h.stop());

async function newTicket(title: string): Promise<{ id: string; version: number }> {
  const res = await call(h, 'POST', '/api/v1/tickets', { token, body: { title, priority: 'low' } });
  expect(res.status).toBe(201);
  return res.body;
}

describe('workflow failures reach the caller as 4xx, never 500', () => {
  it('a create whose group is deleted between the check and the write is a 422, and writes nothing', async () => {
    const group = await createGroup(h.db);
    // hold the group's deletion open: the API's check still sees the group, the workflow's insert
    // waits on its row lock, and fails (23503) once the deletion commits
    const trx = await h.db.transaction();
    try {
      await trx('groups').where({ id: group.id }).delete();
      const pending = call(h, 'POST', '/api/v1/tickets', {
        token,
        body: { title: 'Racing a deletion', priority: 'low', assigned_group_id: group.id },
      });
      await eventually(
        async () => {
          const rows = await h.db.raw(
            `select 1 from pg_stat_activity where wait_event_type = 'Lock' and query ilike 'insert into "tickets"%' and datname = current_database()`,
          );
          return rows.rows.length > 0;
        },
        20_000,
        50,
      );
      await trx.commit();
      const res = await pending;
      expect(res.status).toBe(422);
      expect(res.body.error).toMatchObject({ code: 'invalid_reference', details: { kind: 'invalid_reference' } });
      expect(await Ticket.query(h.db).where({ title: 'Racing a deletion' })).toHaveLength(0);
    } finally {
      if (!trx.isCompleted()) await trx.rollback();
    }
  });

  it('a change to a ticket whose workflow was terminated is a 409 ticket_closed', async () => {
    const t = await newTicket('Terminated');
    const handle = h.temporal.client.workflow.getHandle(ticketWorkflowId(t.id));
    await handle.terminate('operator stopped it');
    const res = await call(h, 'PATCH', `/api/v1/tickets/${t.id}`, { token, body: { title: 'too late' } });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('ticket_closed');
    const note = await call(h, 'POST', `/api/v1/tickets/${t.id}/notes`, { token, body: { content: 'too late' } });
    expect(note.status).toBe(409);
  });

  it('a change that lost the race to a delete (its workflow already closed) is a 409, not a 500', async () => {
    const t = await newTicket('Deleted under a change');
    expect((await call(h, 'DELETE', `/api/v1/tickets/${t.id}`, { token })).status).toBe(204);
    await h.temporal.client.workflow.getHandle(ticketWorkflowId(t.id)).result();
    // the change command after it found the ticket (the race's window), as PATCH runs it
    const ctx = { temporal: h.temporal.client, requestId: randomUUID() } as unknown as CommandContext;
    const err = await runTicketMutation(ctx, t.id, changeUpdate, {
      requestId: `change-${randomUUID()}`,
      actor: { type: 'user', userId },
      expectedVersion: null,
      changes: { title: 'lost race' },
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ status: 409, code: 'ticket_closed' });
  });

  it('changes racing a delete through the API each get 200, 404 or 409', async () => {
    const t = await newTicket('Race');
    const results = await Promise.all([
      ...Array.from({ length: 4 }, (_, i) => call(h, 'PATCH', `/api/v1/tickets/${t.id}`, { token, body: { tags: [`r${i}`] } })),
      call(h, 'DELETE', `/api/v1/tickets/${t.id}`, { token }),
      ...Array.from({ length: 4 }, (_, i) => call(h, 'POST', `/api/v1/tickets/${t.id}/notes`, { token, body: { content: `n${i}` } })),
    ]);
    for (const r of results) expect([200, 201, 204, 404, 409], JSON.stringify(r.body)).toContain(r.status);
    expect(results[4]!.status).toBe(204);
  }, 60_000);
});
