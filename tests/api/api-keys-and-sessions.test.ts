import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey, RefreshToken, User } from '../../src/models/index.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';
import { createUser, PASSWORD, signedIn } from '../helpers/factories.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ worker: false });
});
afterAll(() => h.stop());

describe('API keys', () => {
  it('shows the key once, then only its prefix and metadata; it authenticates until revoked', async () => {
    const me = await signedIn(h, 'agent');
    const created = await call(h, 'POST', '/api/v1/api-keys', {
      token: me.token,
      body: { name: 'CI bot', scopes: ['tickets:read', 'tickets:read'] },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    expect(created.body).toMatchObject({
      name: 'CI bot',
      scopes: ['tickets:read'],
      user_id: me.user.id,
      revoked_at: null,
      key: expect.stringMatching(/^smk_/),
    });
    expect(created.body.key.startsWith(`smk_${created.body.key_prefix}_`)).toBe(true);

    const list = await call(h, 'GET', '/api/v1/api-keys', { token: me.token });
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0]).not.toHaveProperty('key');
    expect(JSON.stringify(list.body)).not.toContain(created.body.key.slice(14));
    expect((await ApiKey.query(h.db).findById(created.body.id))!.keyHash).not.toContain(created.body.key);

    expect((await call(h, 'GET', '/api/v1/auth/me', { apiKey: created.body.key })).body.id).toBe(me.user.id);
    expect((await call(h, 'GET', '/api/v1/api-keys', { token: me.token })).body.items[0].last_used_at).not.toBeNull();
    expect((await call(h, 'DELETE', `/api/v1/api-keys/${created.body.id}`, { token: me.token })).status).toBe(204);
    expect((await call(h, 'GET', '/api/v1/auth/me', { apiKey: created.body.key })).status).toBe(401);
    expect((await call(h, 'DELETE', `/api/v1/api-keys/${created.body.id}`, { token: me.token })).status).toBe(204); // idempotent
    expect((await call(h, 'GET', '/api/v1/api-keys', { token: me.token })).body.items).toHaveLength(0);
    expect((await call(h, 'GET', '/api/v1/api-keys?include_revoked=true', { token: me.token })).body.items).toHaveLength(1);
  });

  it('validates: scopes the role may not grant, unknown scopes, past expiry, empty name', async () => {
    const agent = await signedIn(h, 'agent');
    for (const body of [
      { name: 'x', scopes: ['admin'] },
      { name: 'x', scopes: ['root'] },
      { name: 'x', expires_at: '2000-01-01T00:00:00Z' },
      { name: '' },
    ]) {
      const res = await call(h, 'POST', '/api/v1/api-keys', { token: agent.token, body });
      expect(res.status, JSON.stringify(body)).toBe(422);
    }
    const admin = await signedIn(h, 'admin');
    expect((await call(h, 'POST', '/api/v1/api-keys', { token: admin.token, body: { name: 'ops', scopes: ['admin'] } })).status).toBe(201);
  });

  it("keeps keys private: others' keys are 404 to agents; admins see and revoke all", async () => {
    const alice = await signedIn(h, 'agent');
    const bob = await signedIn(h, 'agent');
    const admin = await signedIn(h, 'admin');
    const key = (await call(h, 'POST', '/api/v1/api-keys', { token: alice.token, body: { name: 'alice' } })).body;
    expect((await call(h, 'GET', '/api/v1/api-keys', { token: bob.token })).body.items.map((k: { id: string }) => k.id)).not.toContain(
      key.id,
    );
    expect((await call(h, 'DELETE', `/api/v1/api-keys/${key.id}`, { token: bob.token })).status).toBe(404);
    expect(
      (await call(h, 'GET', '/api/v1/api-keys?page_size=100', { token: admin.token })).body.items.map((k: { id: string }) => k.id),
    ).toContain(key.id);
    expect((await call(h, 'DELETE', `/api/v1/api-keys/${key.id}`, { token: admin.token })).status).toBe(204);
    expect((await call(h, 'GET', '/api/v1/auth/me', { apiKey: key.key })).status).toBe(401);
  });

  it('a key cannot mint keys unless it carries admin (or no) scopes', async () => {
    const admin = await signedIn(h, 'admin');
    const reader = (await call(h, 'POST', '/api/v1/api-keys', { token: admin.token, body: { name: 'reader', scopes: ['tickets:read'] } }))
      .body;
    expect((await call(h, 'POST', '/api/v1/api-keys', { apiKey: reader.key, body: { name: 'escalate' } })).status).toBe(403);
  });
});

/** The refresh cookie from a response, and its attributes. */
function refreshCookie(res: { headers: Headers }): { value: string; attrs: string } | null {
  const header = res.headers.getSetCookie().find((c) => c.startsWith('servicemeow_refresh='));
  if (!header) return null;
  const [pair, ...attrs] = header.split(';');
  return { value: pair!.slice('servicemeow_refresh='.length), attrs: attrs.join(';').toLowerCase() };
}

const refresh = (value: string) => call(h, 'POST', '/api/v1/auth/refresh', { headers: { cookie: `servicemeow_refresh=${value}` } });

async function loginWithCookie(username: string) {
  const res = await call(h, 'POST', '/api/v1/auth/login', { body: { username, password: PASSWORD } });
  expect(res.status).toBe(200);
  return { token: res.body.access_token as string, cookie: refreshCookie(res)! };
}

describe('refresh tokens', () => {
  it('come in an httpOnly, Secure, SameSite=Strict cookie scoped to /api/v1/auth, stored hashed', async () => {
    const user = await createUser(h.db);
    const { cookie } = await loginWithCookie(user.username);
    expect(cookie.attrs).toContain('httponly');
    expect(cookie.attrs).toContain('secure');
    expect(cookie.attrs).toContain('samesite=strict');
    expect(cookie.attrs).toContain('path=/api/v1/auth');
    const rows = await RefreshToken.query(h.db).where({ userId: user.id });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.tokenHash).not.toBe(cookie.value);
  });

  it('rotate on every refresh; reusing a rotated token revokes the whole family', async () => {
    const user = await createUser(h.db);
    const { cookie: first } = await loginWithCookie(user.username);
    const r1 = await refresh(first.value);
    expect(r1.status).toBe(200);
    expect((await call(h, 'GET', '/api/v1/auth/me', { token: r1.body.access_token })).body.id).toBe(user.id);
    const second = refreshCookie(r1)!;
    expect(second.value).not.toBe(first.value);

    const reuse = await refresh(first.value); // the stolen, already-rotated token
    expect(reuse.status).toBe(401);
    expect(reuse.body.error.code).toBe('refresh_token_reused');
    expect((await refresh(second.value)).status).toBe(401); // the legitimate successor died with the family
    expect(await RefreshToken.query(h.db).where({ userId: user.id }).whereNull('revoked_at').resultSize()).toBe(0);
  });

  it('concurrent refreshes with one token: exactly one succeeds', async () => {
    const user = await createUser(h.db);
    const { cookie } = await loginWithCookie(user.username);
    const results = await Promise.all([1, 2, 3].map(() => refresh(cookie.value)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401]);
  });

  it('logout revokes the session and clears the cookie; it is idempotent', async () => {
    const user = await createUser(h.db);
    const { cookie } = await loginWithCookie(user.username);
    const out = await call(h, 'POST', '/api/v1/auth/logout', { headers: { cookie: `servicemeow_refresh=${cookie.value}` } });
    expect(out.status).toBe(204);
    expect(refreshCookie(out)!.attrs).toMatch(/expires=thu, 01 jan 1970|max-age=0/);
    expect((await refresh(cookie.value)).status).toBe(401);
    expect((await call(h, 'POST', '/api/v1/auth/logout')).status).toBe(204);
  });

  it('refuse expired tokens, missing cookies, garbage, and users deactivated since', async () => {
    const user = await createUser(h.db);
    const { cookie } = await loginWithCookie(user.username);
    await RefreshToken.query(h.db)
      .patch({ expiresAt: new Date(Date.now() - 1000) } as Partial<RefreshToken>)
      .where({ userId: user.id });
    expect((await refresh(cookie.value)).body.error.code).toBe('refresh_token_expired');
    expect((await call(h, 'POST', '/api/v1/auth/refresh')).status).toBe(401);
    expect((await refresh('garbage')).status).toBe(401);

    const other = await createUser(h.db);
    const session = await loginWithCookie(other.username);
    await User.query(h.db)
      .patch({ isActive: false } as Partial<User>)
      .where('id', other.id);
    expect((await refresh(session.cookie.value)).status).toBe(401);
  });
});
