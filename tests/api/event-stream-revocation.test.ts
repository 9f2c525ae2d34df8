/**
 * An open stream ends when its credential stops holding: at once when a user is deactivated or a
 * key revoked (the change is announced), and within the re-check interval for anything else (a
 * change made straight in the database). Nothing committed after the change reaches it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { User } from '../../src/models/index.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';
import { createApiKey, createUser, ensureSlaPolicies, login, signedIn } from '../helpers/factories.js';
import { SseClient, type SseFrame } from '../helpers/sse.js';

let h: Harness;
let admin: Awaited<ReturnType<typeof signedIn>>;
let watcher: SseClient;
const open: SseClient[] = [];
const REVALIDATE_MS = 1_500;

beforeAll(async () => {
  h = await startHarness({ env: { RATE_LIMIT_PER_MINUTE: '100000' }, stream: { revalidateMs: REVALIDATE_MS } });
  await ensureSlaPolicies(h.db);
  admin = await signedIn(h, 'admin');
  watcher = await subscribe({ authorization: `Bearer ${admin.token}` }); // sees everything, stays open
}, 60_000);
afterAll(async () => {
  open.forEach((c) => c.close());
  await h?.stop();
});

async function subscribe(headers: Record<string, string>) {
  const client = await SseClient.open(`${h.baseUrl}/api/v1/events/stream?types=ticket.created`, headers);
  expect(client.status).toBe(200);
  open.push(client);
  return client;
}

const hasTicket = (frames: SseFrame[], id: string) => frames.some((f) => f.data?.data?.ticket?.id === id);

async function create(title: string): Promise<string> {
  const res = await call(h, 'POST', '/api/v1/tickets', { token: admin.token, body: { title } });
  expect(res.status).toBe(201);
  return res.body.id;
}

/**
 * The stream sees a ticket; `change` happens; a ticket created right after the change (which the
 * watcher sees) must not reach it, and it must end with a final `error` event.
 */
async function expectEndedBy(stream: SseClient, change: () => Promise<void>, code: string): Promise<number> {
  const before = await create('before the change');
  await stream.waitFor(() => hasTicket(stream.frames, before));
  const changedAt = Date.now();
  await change();
  const after = await create('after the change');
  await watcher.waitFor(() => hasTicket(watcher.frames, after));
  await stream.waitFor(() => stream.ended, 15_000).catch(() => undefined);
  expect(stream.ended).toBe(true);
  const last = stream.frames.at(-1)!;
  expect(last.event).toBe('error');
  expect(last.data.code).toBe(code);
  expect(hasTicket(stream.frames, after)).toBe(false);
  return Date.now() - changedAt;
}

describe('open streams and the credentials they were opened with', () => {
  it('a JWT stream ends at once when its user is deactivated', async () => {
    const manager = await createUser(h.db, { role: 'manager' });
    const stream = await subscribe({ authorization: `Bearer ${await login(h, manager.username)}` });
    await expectEndedBy(
      stream,
      async () => {
        expect((await call(h, 'PATCH', `/api/v1/users/${manager.id}`, { token: admin.token, body: { is_active: false } })).status).toBe(
          200,
        );
      },
      'unauthorized',
    );
  });

  it('an API key stream ends at once when the key is revoked', async () => {
    const manager = await createUser(h.db, { role: 'manager' });
    const { plain, key } = await createApiKey(h.db, manager, ['tickets:read']);
    const stream = await subscribe({ 'x-api-key': plain });
    await expectEndedBy(
      stream,
      async () => {
        expect((await call(h, 'DELETE', `/api/v1/api-keys/${key.id}`, { token: admin.token })).status).toBe(204);
      },
      'unauthorized',
    );
  });

  it('a stream ends when its role changes (what it may see changed)', async () => {
    const manager = await createUser(h.db, { role: 'manager' });
    const stream = await subscribe({ authorization: `Bearer ${await login(h, manager.username)}` });
    await expectEndedBy(
      stream,
      async () => {
        expect((await call(h, 'PATCH', `/api/v1/users/${manager.id}`, { token: admin.token, body: { role: 'agent' } })).status).toBe(200);
      },
      'principal_changed',
    );
  });

  it('an unannounced change (straight in the database) ends the stream within the re-check interval', async () => {
    const manager = await createUser(h.db, { role: 'manager' });
    const stream = await subscribe({ authorization: `Bearer ${await login(h, manager.username)}` });
    const other = await subscribe({ authorization: `Bearer ${await login(h, (await createUser(h.db, { role: 'manager' })).username)}` });
    const before = await create('before');
    await stream.waitFor(() => hasTicket(stream.frames, before));
    await User.query(h.db)
      .patch({ isActive: false } as Partial<User>)
      .where('id', manager.id);
    await stream.waitFor(() => stream.ended, REVALIDATE_MS * 4 + 10_000).catch(() => undefined);
    expect(stream.ended).toBe(true);
    expect(stream.frames.at(-1)).toMatchObject({ event: 'error', data: { code: 'unauthorized' } });
    // Another user's stream is untouched by the re-checks.
    const later = await create('later');
    await other.waitFor(() => hasTicket(other.frames, later));
    expect(other.ended).toBe(false);
  });
});
