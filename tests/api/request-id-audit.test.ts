/** The API request behind a change is named in its audit entries, so audit rows join to the request's logs and the Update. */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startHarness, type Harness } from '../helpers/harness.js';
import { ensureSlaPolicies, signedIn } from '../helpers/factories.js';

let h: Harness;
let token: string;
beforeAll(async () => {
  h = await startHarness();
  await ensureSlaPolicies(h.db);
  token = (await signedIn(h, 'admin')).token;
});
afterAll(() => h.stop());

describe('audit metadata', () => {
  it('carries the X-Request-Id of the create and of each change, and the Update of a change', async () => {
    const createId = `create-${randomBytes(4).toString('hex')}`;
    const created = await call(h, 'POST', '/api/v1/tickets', {
      token,
      body: { title: 'Request ids' },
      headers: { 'x-request-id': createId },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('x-request-id')).toBe(createId);

    const patchId = `patch-${randomBytes(4).toString('hex')}`;
    const patched = await call(h, 'PATCH', `/api/v1/tickets/${created.body.id}`, {
      token,
      body: { priority: 'high', status: 'paused' },
      headers: { 'x-request-id': patchId },
    });
    expect(patched.status).toBe(200);

    const audit = await call(h, 'GET', `/api/v1/tickets/${created.body.id}/audit-log`, { token });
    expect(audit.status).toBe(200);
    const entries = audit.body.items as { action: string; field_changed: string | null; metadata: Record<string, unknown> }[];
    expect(entries.find((e) => e.action === 'created')?.metadata).toEqual({ request_id: createId });
    const changes = entries.filter((e) => e.action !== 'created');
    expect(changes.map((e) => e.field_changed).sort()).toEqual(['priority', 'status']);
    for (const e of changes) expect(e.metadata).toEqual({ request_id: patchId, update_id: expect.stringMatching(/^change-/) });
    expect(new Set(changes.map((e) => e.metadata.update_id)).size).toBe(1); // one Update made both
  });
});
