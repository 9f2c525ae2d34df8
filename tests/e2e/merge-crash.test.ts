/**
 * A merge survives a worker SIGKILLed in the middle of it (workflows/mutations/merge.ts): the
 * worker process dies while merges are in flight — once a target has recorded its source but the
 * source is not yet written as merged (half-merged in the database) — and is restarted. Then every
 * merge is whole: the source merged exactly when its target lists it, one `ticket.merged` event and
 * one `merged_from` audit entry per merge, versions contiguous.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, Event, Ticket } from '../../src/models/index.js';
import { eventually } from '../helpers/eventually.js';
import { createUser, ensureSlaPolicies, login } from '../helpers/factories.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';
import { kill, launch, workerEnv } from '../helpers/processes.js';

let h: Harness;
let token: string;
beforeAll(async () => {
  h = await startHarness({ worker: false, confirmWaitMs: 2_000, env: { RATE_LIMIT_PER_MINUTE: '100000' } });
  await ensureSlaPolicies(h.db);
  const user = await createUser(h.db, { role: 'admin' });
  token = await login(h, user.username);
});
afterAll(() => h.stop());

const PAIRS = 8;

/** Pairs whose target lists the source while the source is not merged (in the database, now). */
async function halfMerged(pairs: { source: string; target: string }[]): Promise<number> {
  const rows = await Ticket.query(h.db).findByIds(pairs.flatMap((p) => [p.source, p.target]));
  const byId = new Map(rows.map((r) => [r.id, r]));
  return pairs.filter((p) => byId.get(p.target)!.mergedFrom.some((l) => l.id === p.source) && byId.get(p.source)!.status !== 'merged')
    .length;
}

describe('worker SIGKILLed mid-merge', () => {
  it('leaves no half-merged pair after restart: each merge whole, once', async () => {
    const env = workerEnv(h, { RATE_LIMIT_PER_MINUTE: '100000' });
    const worker = launch('src/main/worker.ts', env);
    await worker.ready;
    let restarted: ReturnType<typeof launch> | null = null;
    try {
      const pairs: { source: string; target: string }[] = [];
      for (let i = 0; i < PAIRS; i++) {
        const s = await call(h, 'POST', '/api/v1/tickets', { token, body: { title: `merge crash source ${i}` } });
        const t = await call(h, 'POST', '/api/v1/tickets', { token, body: { title: `merge crash target ${i}` } });
        // 202 when the loaded worker is slower than the API's 2 s wait: the row follows
        for (const r of [s, t]) expect([201, 202]).toContain(r.status);
        pairs.push({ source: s.body.id, target: t.body.id });
      }
      await eventually(async () => (await Ticket.query(h.db).findByIds(pairs.flatMap((p) => [p.source, p.target]))).length === 2 * PAIRS);
      const mergeOf = (p: { source: string; target: string }) =>
        call(h, 'POST', `/api/v1/tickets/${p.source}/merge`, {
          token,
          body: { target: p.target, note: 'duplicate' },
          headers: { 'idempotency-key': `crash-merge-${p.source}` },
        });

      const inFlight = Promise.all(pairs.map(mergeOf));
      // kill the worker the moment a pair is half-merged: the target wrote, the source did not yet
      let caught = 0;
      await eventually(
        async () => {
          caught = await halfMerged(pairs);
          return caught > 0 || (await Ticket.query(h.db).findByIds(pairs.map((p) => p.source))).every((r) => r.status === 'merged');
        },
        30_000,
        5,
      );
      await kill(worker.child);
      expect(caught, 'the kill fell inside a merge (a target written, its source not)').toBeGreaterThan(0);
      const first = await inFlight;
      // 200 applied, 202 accepted (durable), 503 not confirmed: each retried below with its key
      expect(first.every((r) => [200, 202, 503].includes(r.status))).toBe(true);

      restarted = launch('src/main/worker.ts', env);
      await restarted.ready;
      const answers = await Promise.all(
        pairs.map(async (p, i) => {
          if (first[i]!.status === 200) return first[i]!;
          // a retry with the same key is answered, never applied twice
          return eventually(async () => {
            const r = await mergeOf(p);
            return r.status === 200 ? r : null;
          }, 60_000);
        }),
      );
      expect(answers.map((r) => r.body.status)).toEqual(pairs.map(() => 'merged'));

      for (const p of pairs) {
        const source = (await Ticket.query(h.db).findById(p.source))!;
        const target = (await Ticket.query(h.db).findById(p.target))!;
        expect(source).toMatchObject({ status: 'merged', mergedInto: { id: p.target } });
        expect(target.mergedFrom.map((l) => l.id)).toEqual([p.source]);
        expect(await Event.query(h.db).where({ ticketId: p.source, type: 'ticket.merged' }).resultSize()).toBe(1);
        expect(await AuditLog.query(h.db).where({ ticketId: p.target, action: 'merged_from' }).resultSize()).toBe(1);
        expect(await AuditLog.query(h.db).where({ ticketId: p.source, action: 'merged_into' }).resultSize()).toBe(1);
        // version 1 the create, version 2 the merge (its note in the same version) or the absorb: nothing doubled
        expect(source.version).toBe(2);
        expect(target.version).toBe(2);
        const versions = (await AuditLog.query(h.db).where({ ticketId: p.source }).orderBy('ticket_version')).map((a) => a.ticketVersion);
        expect([...new Set(versions)]).toEqual([1, 2]);
      }
      expect(await halfMerged(pairs)).toBe(0);
    } finally {
      await kill(worker.child);
      if (restarted) await kill(restarted.child);
    }
  }, 180_000);
});
