/** Many simultaneous changes to one ticket: each is accepted, applied once, in its own version. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/models/index.js';
import { ensureSlaPolicies, signedIn } from '../helpers/factories.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let token: string;
beforeAll(async () => {
  h = await startHarness({ env: { RATE_LIMIT_PER_MINUTE: '100000' } });
  await ensureSlaPolicies(h.db);
  token = (await signedIn(h, 'admin')).token;
});
afterAll(() => h.stop());

describe('concurrent changes to one ticket', () => {
  it('applies 25 simultaneous notes and edits, each exactly once', async () => {
    const t = (await call(h, 'POST', '/api/v1/tickets', { token, body: { title: 'Hot ticket', priority: 'low' } })).body;
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        i % 2 === 0
          ? call(h, 'POST', `/api/v1/tickets/${t.id}/notes`, { token, body: { content: `note ${i}` } })
          : call(h, 'PATCH', `/api/v1/tickets/${t.id}`, { token, body: { tags: [`t${i}`] } }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([...Array(13).fill(201), ...Array(12).fill(200)].sort());
    const versions = (await AuditLog.query(h.db).where({ ticketId: t.id })).map((a) => a.ticketVersion);
    expect(new Set(versions).size).toBe(26);
  }, 60_000);
});
