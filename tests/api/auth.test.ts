import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey, User } from '../../src/models/index.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';
import { createApiKey, createUser, login, PASSWORD } from '../helpers/factories.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ worker: false });
});
afterAll(() => h.stop());

describe('POST /auth/login', () => {
  it('issues a bearer access token that /auth/me accepts', async () => {
    const user = await createUser(h.db, { role: 'manager' });
    const res = await call(h, 'POST', '/api/v1/auth/login', { body: { username: user.username.toUpperCase(), password: PASSWORD } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token_type: 'bearer', expires_in: 900, access_token: expect.any(String) });
    const me = await call(h, 'GET', '/api/v1/auth/me', { token: res.body.access_token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: user.id, username: user.username, role: 'manager', is_active: true });
    expect(me.body).not.toHaveProperty('password_hash');
    expect(JSON.stringify(me.body)).not.toContain('argon2');
  });

  it('gives the same answer for a wrong password and an unknown user', async () => {
    const user = await createUser(h.db);
    const wrongPassword = await call(h, 'POST', '/api/v1/auth/login', { body: { username: user.username, password: 'nope' } });
    const unknownUser = await call(h, 'POST', '/api/v1/auth/login', { body: { username: 'nobody-here', password: 'nope' } });
    expect(wrongPassword.status).toBe(401);
    expect(unknownUser.status).toBe(401);
    expect(wrongPassword.body.error).toEqual(unknownUser.body.error);
  });

  it('refuses a deactivated user, and their existing token stops working', async () => {
    const user = await createUser(h.db);
    const token = await login(h, user.username);
    await User.query(h.db)
      .patch({ isActive: false } as Partial<User>)
      .where('id', user.id);
    expect((await call(h, 'POST', '/api/v1/auth/login', { body: { username: user.username, password: PASSWORD } })).status).toBe(401);
    expect((await call(h, 'GET', '/api/v1/auth/me', { token })).status).toBe(401);
  });
});

describe('authentication', () => {
  it('accepts an API key as X-API-Key or as a bearer token and records its use', async () => {
    const user = await createUser(h.db, { role: 'agent' });
    const { plain, key } = await createApiKey(h.db, user);
    for (const opts of [{ apiKey: plain }, { token: plain }]) {
      const me = await call(h, 'GET', '/api/v1/auth/me', opts);
      expect(me.status).toBe(200);
      expect(me.body.id).toBe(user.id);
    }
    expect((await ApiKey.query(h.db).findById(key.id))!.lastUsedAt).toBeInstanceOf(Date);
  });

  it('refuses revoked, expired, tampered and unknown keys with 401 and WWW-Authenticate', async () => {
    const user = await createUser(h.db);
    const revoked = await createApiKey(h.db, user);
    await ApiKey.query(h.db)
      .patch({ revokedAt: new Date() } as Partial<ApiKey>)
      .where('id', revoked.key.id);
    const expired = await createApiKey(h.db, user);
    await ApiKey.query(h.db)
      .patch({ expiresAt: new Date(Date.now() - 1000) } as Partial<ApiKey>)
      .where('id', expired.key.id);
    const good = await createApiKey(h.db, user);
    const tampered = good.plain.slice(0, -1) + (good.plain.endsWith('A') ? 'B' : 'A');
    for (const apiKey of [revoked.plain, expired.plain, tampered, 'smk_unknown0_' + 'x'.repeat(43), 'not-a-key']) {
      const res = await call(h, 'GET', '/api/v1/auth/me', { apiKey });
      expect(res.status, apiKey).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('invalid_token');
    }
  });

  it('refuses a missing or malformed Authorization header', async () => {
    expect((await call(h, 'GET', '/api/v1/auth/me')).status).toBe(401);
    expect((await call(h, 'GET', '/api/v1/auth/me', { headers: { authorization: 'Basic abc' } })).status).toBe(401);
    expect((await call(h, 'GET', '/api/v1/auth/me', { token: 'eyJhbGciOiJub25lIn0.e30.' })).status).toBe(401);
  });
});
