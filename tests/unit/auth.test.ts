import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { apiKeyMatches, apiKeyPrefix, generateApiKey, hashApiKey } from '../../src/auth/api-keys.js';
import { hashPassword, verifyPassword } from '../../src/auth/passwords.js';
import { signAccessToken, verifyAccessToken } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config/env.js';

const config = loadConfig({ JWT_SECRET: 'unit-test-secret-long-enough' });

describe('access tokens', () => {
  it('round-trips subject and role', () => {
    const id = '0b6f5b3e-8d1c-4a57-9a4e-2f1c3d4e5f60';
    const { token, expiresIn } = signAccessToken(config, { id, role: 'agent' });
    expect(expiresIn).toBe(900);
    expect(verifyAccessToken(config, token)).toEqual({ sub: id, role: 'agent' });
  });

  it('rejects a correctly signed token whose subject is not a user id (a UUID)', () => {
    const opts = { issuer: config.jwt.issuer, audience: config.jwt.audience, algorithm: 'HS256' as const };
    for (const subject of ['u1', 'admin', '1 OR 1=1', 'not-a-uuid-0000', '0b6f5b3e-8d1c-4a57-9a4e-2f1c3d4e5f6']) {
      const token = jwt.sign({ role: 'admin' }, config.jwt.secret, { ...opts, subject });
      expect(verifyAccessToken(config, token), subject).toBeNull();
    }
  });

  it('rejects alg none, a wrong key, another algorithm, wrong issuer or audience, expiry and garbage', () => {
    const claims = { role: 'admin' };
    const opts = { subject: 'u1', issuer: config.jwt.issuer, audience: config.jwt.audience };
    const none = jwt.sign(claims, '', { ...opts, algorithm: 'none' });
    const wrongKey = jwt.sign(claims, 'another-secret-entirely', { ...opts, algorithm: 'HS256' });
    const otherAlg = jwt.sign(claims, config.jwt.secret, { ...opts, algorithm: 'HS512' });
    const wrongIss = jwt.sign(claims, config.jwt.secret, { ...opts, issuer: 'evil', algorithm: 'HS256' });
    const wrongAud = jwt.sign(claims, config.jwt.secret, { ...opts, audience: 'other-app', algorithm: 'HS256' });
    const expired = jwt.sign({ ...claims, exp: Math.floor(Date.now() / 1000) - 10 }, config.jwt.secret, { ...opts, algorithm: 'HS256' });
    for (const token of [none, wrongKey, otherAlg, wrongIss, wrongAud, expired, 'garbage', '', 'a.b.c']) {
      expect(verifyAccessToken(config, token)).toBeNull();
    }
  });
});

describe('API keys', () => {
  it('have a visible prefix and verify only against their own hash', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(a.plain).toMatch(/^smk_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{43}$/);
    expect(apiKeyPrefix(a.plain)).toBe(a.prefix);
    expect(a.hash).toBe(hashApiKey(a.plain));
    expect(a.hash).not.toContain(a.plain.slice(13));
    expect(apiKeyMatches(a.plain, a.hash)).toBe(true);
    expect(apiKeyMatches(b.plain, a.hash)).toBe(false);
    expect(apiKeyPrefix('smk_short')).toBeNull();
  });
});

describe('passwords', () => {
  it('hash with argon2id and verify', async () => {
    const stored = await hashPassword('hunter2');
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verifyPassword(stored, 'hunter2')).toBe(true);
    expect(await verifyPassword(stored, 'hunter3')).toBe(false);
    expect(await verifyPassword('not-a-hash', 'hunter2')).toBe(false);
  });
});
