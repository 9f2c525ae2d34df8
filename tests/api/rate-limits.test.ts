import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/dev/ports.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';
import { createUser, PASSWORD, signedIn } from '../helpers/factories.js';

const LIMIT = 5;

async function burst(h: Harness, token: string, n: number) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await call(h, 'GET', '/api/v1/auth/me', { token }));
  return out;
}

describe('per-principal rate limit (in memory)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ worker: false, env: { RATE_LIMIT_PER_MINUTE: String(LIMIT) } });
  });
  afterAll(() => h.stop());

  it('counts down in RateLimit-* headers, then answers 429 with Retry-After and the envelope', async () => {
    const { token } = await signedIn(h, 'agent');
    const responses = await burst(h, token, LIMIT + 1);
    expect(responses.slice(0, LIMIT).map((r) => r.status)).toEqual(Array(LIMIT).fill(200));
    expect(responses.slice(0, LIMIT).map((r) => Number(r.headers.get('ratelimit-remaining')))).toEqual([4, 3, 2, 1, 0]);
    expect(responses[0]!.headers.get('ratelimit-limit')).toBe(String(LIMIT));
    expect(responses[0]!.headers.get('ratelimit-policy')).toBe(`${LIMIT};w=60`);
    const limited = responses[LIMIT]!;
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(limited.body.request_id).toBe(limited.headers.get('x-request-id'));
  });

  it('gives every principal its own budget', async () => {
    const a = await signedIn(h, 'agent');
    const b = await signedIn(h, 'agent');
    await burst(h, a.token, LIMIT + 1);
    expect((await call(h, 'GET', '/api/v1/auth/me', { token: b.token })).status).toBe(200);
  });

  it('keeps separate instances separate without Redis', async () => {
    const other = await startHarness({ worker: false, env: { RATE_LIMIT_PER_MINUTE: String(LIMIT) } });
    try {
      const { token } = await signedIn(h, 'agent');
      await burst(h, token, 3);
      expect((await burst(other, token, 3)).every((r) => r.status === 200)).toBe(true);
    } finally {
      await other.stop();
    }
  });
});

describe('per-principal rate limit (Redis, shared by instances)', () => {
  let a: Harness;
  let b: Harness;
  beforeAll(async () => {
    const env = { RATE_LIMIT_PER_MINUTE: String(LIMIT), REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379' };
    [a, b] = await Promise.all([startHarness({ worker: false, env }), startHarness({ worker: false, env })]);
  });
  afterAll(async () => {
    await a.stop();
    await b.stop();
  });

  it('spends one budget across two API instances', async () => {
    const { token } = await signedIn(a, 'agent');
    const first = await burst(a, token, 3);
    const second = await burst(b, token, 3);
    expect([...first, ...second].map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 429]);
    expect(second[1]!.headers.get('ratelimit-remaining')).toBe('0');
  });
});

describe('per-principal rate limit when Redis is unreachable', () => {
  it('falls back to an in-memory budget: still answers, still limits', async () => {
    const dead = await freePort(); // nothing listens here
    const h = await startHarness({ worker: false, env: { RATE_LIMIT_PER_MINUTE: String(LIMIT), REDIS_URL: `redis://127.0.0.1:${dead}` } });
    try {
      const { token } = await signedIn(h, 'agent');
      const responses = await burst(h, token, LIMIT + 1);
      expect(responses.map((r) => r.status)).toEqual([...Array(LIMIT).fill(200), 429]);
      expect(responses[0]!.headers.get('ratelimit-limit')).toBe(String(LIMIT));
    } finally {
      await h.stop();
    }
  });
});

describe('login throttling', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ worker: false, loginThrottle: { failuresPerUsername: 3, failuresPerIp: 5, windowSeconds: 60 } });
  });
  afterAll(() => h.stop());

  const attempt = (username: string, password: string, ip: string) =>
    call(h, 'POST', '/api/v1/auth/login', { body: { username, password }, headers: { 'x-forwarded-for': ip } });

  it('throttles a username after repeated failures, even with the right password then', async () => {
    const user = await createUser(h.db);
    for (let i = 0; i < 3; i++) expect((await attempt(user.username, 'wrong', `10.0.0.${i}`)).status).toBe(401);
    const blocked = await attempt(user.username, PASSWORD, '10.0.1.1');
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('login_throttled');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('a success resets the username count', async () => {
    const user = await createUser(h.db);
    for (let i = 0; i < 2; i++) await attempt(user.username, 'wrong', '10.0.2.1');
    expect((await attempt(user.username, PASSWORD, '10.0.2.2')).status).toBe(200);
    for (let i = 0; i < 2; i++) await attempt(user.username, 'wrong', '10.0.2.3');
    expect((await attempt(user.username, PASSWORD, '10.0.2.4')).status).toBe(200);
  });

  it('throttles an address spraying many usernames, not other addresses', async () => {
    for (let i = 0; i < 5; i++) expect((await attempt(`nobody-${i}`, 'wrong', '10.9.9.9')).status).toBe(401);
    expect((await attempt('nobody-else', 'wrong', '10.9.9.9')).status).toBe(429);
    const user = await createUser(h.db);
    expect((await attempt(user.username, PASSWORD, '10.9.9.10')).status).toBe(200);
  });

  it('takes the address nginx appended, not one the client forged in front of it', async () => {
    for (let i = 0; i < 5; i++) await attempt(`spoofer-${i}`, 'wrong', `1.2.3.${i}, 10.8.8.8`);
    expect((await attempt('spoofer-x', 'wrong', '9.9.9.9, 10.8.8.8')).status).toBe(429);
  });
});
