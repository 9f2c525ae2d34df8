/**
 * Many simultaneous changes to one ticket: each is applied once, in its own version.
 *
 * The engine takes at most 10 Updates in flight per workflow; the rest wait in the SDK's retries
 * inside the confirmation wait. On a starved machine some answers can be 503 (nothing applied, or
 * "may still be applied") or 202 (accepted, applied later): the client contract for both is to
 * retry with the same Idempotency-Key, which this test does. What must hold whatever the load:
 * every change ends applied exactly once — none lost, none doubled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, TicketNote } from '../../src/models/index.js';
import { ensureSlaPolicies, signedIn } from '../helpers/factories.js';
import { call, startHarness, type ApiResponse, type Harness } from '../helpers/harness.js';

let h: Harness;
let token: string;
beforeAll(async () => {
  h = await startHarness({ env: { RATE_LIMIT_PER_MINUTE: '100000' } });
  await ensureSlaPolicies(h.db);
  token = (await signedIn(h, 'admin')).token;
});
afterAll(() => h.stop());

/** Sends a change, retrying a 503 or 202 with the same Idempotency-Key until its final answer. */
async function untilFinal(send: () => Promise<ApiResponse>): Promise<{ first: number; final: ApiResponse }> {
  let res = await send();
  const first = res.status;
  for (let attempt = 0; (res.status === 503 || res.status === 202) && attempt < 30; attempt++) {
    if (res.status === 503) expect(res.headers.get('retry-after')).toBeTruthy();
    await new Promise((r) => setTimeout(r, 1_000));
    res = await send();
  }
  return { first, final: res };
}

describe('concurrent changes to one ticket', () => {
  it('applies 25 simultaneous notes and edits, each exactly once', async () => {
    const t = (await call(h, 'POST', '/api/v1/tickets', { token, body: { title: 'Hot ticket', priority: 'low' } })).body;
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) => {
        const headers = { 'idempotency-key': `hot-${t.id}-${i}` };
        return untilFinal(() =>
          i % 2 === 0
            ? call(h, 'POST', `/api/v1/tickets/${t.id}/notes`, { token, headers, body: { content: `note ${i}` } })
            : call(h, 'PATCH', `/api/v1/tickets/${t.id}`, { token, headers, body: { tags: [`t${i}`] } }),
        );
      }),
    );
    for (const { first } of results) expect([200, 201, 202, 503]).toContain(first);
    expect(results.map((r) => r.final.status).sort()).toEqual([...Array(13).fill(201), ...Array(12).fill(200)].sort());
    // each change in its own version: the create's plus 25, no gap, no repeat
    const versions = (await AuditLog.query(h.db).where({ ticketId: t.id })).map((a) => a.ticketVersion);
    expect(versions).toHaveLength(26);
    expect(new Set(versions).size).toBe(26);
    const notes = (await TicketNote.query(h.db).where({ ticketId: t.id })).map((n) => n.content).sort();
    expect(notes).toEqual(Array.from({ length: 13 }, (_, k) => `note ${k * 2}`).sort());
  }, 120_000);
});
