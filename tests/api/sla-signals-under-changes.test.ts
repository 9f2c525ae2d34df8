/**
 * SLA signals firing while clients change the same ticket: every change is applied exactly once
 * (retried with its Idempotency-Key on 503 or 202, never a 500) and every signal is written exactly
 * once. A signal its timer woke is written by a local activity inside that workflow task (patch
 * 'sla-local-writes'): Updates that reach the ticket meanwhile must still be answered — tried
 * directly by holding the ticket's row locked so that the signal's write waits inside its task.
 *
 * A database of its own: the short policies would breach other files' tickets.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import proto from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AuditLog, TicketNote } from '../../src/models/index.js';
import { ticketWorkflowId } from '../../workflows/definitions.js';
import { call, type ApiResponse, type Harness } from '../helpers/harness.js';
import { slaEvents, startSlaHarness } from '../helpers/sla-harness.js';

let h: Harness;
let token: string;
const long = { assign_target_seconds: 600, resolve_target_seconds: 600, at_risk_percent: 80 };
const POLICIES = {
  // assign: levels at 1, 2 and 3 s, breach at 4 s; resolve: at-risk at 4 s, breach at 8 s
  critical: {
    assign_target_seconds: 4,
    resolve_target_seconds: 8,
    at_risk_percent: 50,
    warning_levels: { assign: [{ percent: 25 }, { percent: 50 }, { percent: 75 }] },
  },
  high: long,
  medium: long,
  low: long,
};

beforeAll(async () => {
  ({ h, token } = await startSlaHarness('sla_under_changes', POLICIES));
}, 60_000);
afterAll(() => h.stop());

/** Sends a change, retrying a 503 or 202 with the same Idempotency-Key until its final answer. */
async function untilFinal(send: () => Promise<ApiResponse>): Promise<{ statuses: number[]; final: ApiResponse }> {
  let res = await send();
  const statuses = [res.status];
  for (let attempt = 0; (res.status === 503 || res.status === 202) && attempt < 30; attempt++) {
    await new Promise((r) => setTimeout(r, 500));
    res = await send();
    statuses.push(res.status);
  }
  return { statuses, final: res };
}

describe('SLA signals while a ticket is being changed', () => {
  // 2 s: inside one workflow task; 12 s: longer than the API's 10 s confirmation wait (the first
  // answers are 503, then 201 on retry) and than the 8 s after which the SDK heartbeats the task
  it.each([2_000, 12_000])(
    'answers changes that arrive while the write of a signal waits %i ms inside its workflow task',
    async (holdMs) => {
      const res = await call(h, 'POST', '/api/v1/tickets', { token, body: { title: 'Locked', priority: 'critical' } });
      expect(res.status).toBe(201);
      const t = res.body as { id: string };
      // hold the row: the first signal's write (due 1 s after creation) waits on this lock
      const locker = new pg.Client({ connectionString: h.config.databaseUrl });
      await locker.connect();
      await locker.query('BEGIN');
      await locker.query('SELECT 1 FROM tickets WHERE id = $1 FOR UPDATE', [t.id]);
      await new Promise((r) => setTimeout(r, 1_500));
      const notes = Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          untilFinal(() =>
            call(h, 'POST', `/api/v1/tickets/${t.id}/notes`, {
              token,
              headers: { 'idempotency-key': `locked-${t.id}-${i}` },
              body: { content: `note ${i}` },
            }),
          ),
        ),
      );
      await new Promise((r) => setTimeout(r, holdMs));
      await locker.query('COMMIT');
      await locker.end();
      const results = await notes;
      for (const r of results) {
        for (const status of r.statuses) expect([201, 202, 503], JSON.stringify(r.final.body)).toContain(status);
        expect(r.final.status, JSON.stringify(r.final.body)).toBe(201);
      }
      await new Promise((r) => setTimeout(r, 8_000)); // every signal is due by now
      const keys = (await slaEvents(h.db, t.id)).map((e) => `${e.type}|${e.metric}|${JSON.stringify(e.level)}`);
      expect(new Set(keys).size, keys.join('\n')).toBe(keys.length);
      expect(keys).toHaveLength(6);
      expect((await TicketNote.query(h.db).where({ ticketId: t.id })).map((n) => n.content).sort()).toEqual(
        Array.from({ length: 6 }, (_, i) => `note ${i}`),
      );
      // the signal was written by a local activity while the notes arrived
      // (RECORD_HISTORIES=1 keeps the history as a fixture replay.test.ts replays on every run)
      const history = await h.temporal.client.workflow.getHandle(ticketWorkflowId(t.id)).fetchHistory();
      const localWrites = history.events!.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity');
      expect(localWrites.length).toBeGreaterThan(1); // the create's and at least one signal's
      const bundle = { code: await readFile(inject('workflowBundlePath'), 'utf8') };
      await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history, ticketWorkflowId(t.id))).resolves.toBeUndefined();
      if (process.env.RECORD_HISTORIES) {
        const { History } = proto.temporal.api.history.v1;
        const file = path.join(import.meta.dirname, '..', 'workflows', 'histories', `sla-local-v2-${randomUUID().slice(0, 8)}.history.pb`);
        await writeFile(file, History.encode(history).finish());
      }
    },
    120_000,
  );

  it('answers every change once and writes every signal once', async () => {
    const tickets = await Promise.all(
      Array.from({ length: 3 }, async (_, k) => {
        const res = await call(h, 'POST', '/api/v1/tickets', { token, body: { title: `Busy ${k}`, priority: 'critical' } });
        expect(res.status).toBe(201);
        return res.body as { id: string };
      }),
    );
    // four clients per ticket add notes back to back for 9 s: through every signal's instant
    const until = Date.now() + 9_000;
    const sent: { ticketId: string; content: string; statuses: number[]; final: ApiResponse }[] = [];
    await Promise.all(
      tickets.flatMap((t) =>
        Array.from({ length: 4 }, async (_, c) => {
          for (let i = 0; Date.now() < until; i++) {
            const content = `client ${c} note ${i}`;
            const headers = { 'idempotency-key': `busy-${t.id}-${c}-${i}` };
            const r = await untilFinal(() => call(h, 'POST', `/api/v1/tickets/${t.id}/notes`, { token, headers, body: { content } }));
            sent.push({ ticketId: t.id, content, ...r });
            // sparse enough that the timers, not the changes, find most signals due
            await new Promise((res) => setTimeout(res, Math.random() * 300));
          }
        }),
      ),
    );
    for (const s of sent) {
      for (const status of s.statuses) expect([201, 202, 503], JSON.stringify(s.final.body)).toContain(status);
      expect(s.final.status, JSON.stringify(s.final.body)).toBe(201);
    }
    expect(sent.length).toBeGreaterThan(20);
    await new Promise((r) => setTimeout(r, 1_500)); // the resolve breach is due at 8 s
    for (const t of tickets) {
      const notes = (await TicketNote.query(h.db).where({ ticketId: t.id })).map((n) => n.content).sort();
      expect(notes).toEqual(
        sent
          .filter((s) => s.ticketId === t.id)
          .map((s) => s.content)
          .sort(),
      );
      const events = await slaEvents(h.db, t.id);
      const keys = events.map((e) => `${e.type}|${e.metric}|${JSON.stringify(e.level)}`);
      expect(new Set(keys).size, keys.join('\n')).toBe(keys.length); // none twice
      expect(keys.filter((k) => k.includes('|assign|'))).toHaveLength(4); // three levels and the breach
      expect(keys.filter((k) => k.includes('|resolve|'))).toHaveLength(2); // at-risk and breach
      // one version per change and per signal: no gap, no repeat
      const versions = (await AuditLog.query(h.db).where({ ticketId: t.id })).map((a) => a.ticketVersion);
      expect(new Set(versions).size).toBe(versions.length);
    }
    // the history replays on this code
    const history = await h.temporal.client.workflow.getHandle(ticketWorkflowId(tickets[0]!.id)).fetchHistory();
    const bundle = { code: await readFile(inject('workflowBundlePath'), 'utf8') };
    await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history, ticketWorkflowId(tickets[0]!.id))).resolves.toBeUndefined();
  }, 120_000);
});
