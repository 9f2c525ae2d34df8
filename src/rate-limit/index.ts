/**
 * Rate limiting with rate-limiter-flexible: per principal (RATE_LIMIT_PER_MINUTE) and failed-login
 * throttling per username and per IP. In memory by default; in Redis when REDIS_URL is set, so
 * several API instances share one budget (an in-memory limiter stands in if Redis fails).
 */
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

export interface LimiterOptions {
  points: number;
  durationSeconds: number;
  keyPrefix: string;
}

/** A limiter in Redis (or memory), with an in-memory twin that answers while Redis is down. */
interface Limiter {
  store: RateLimiterAbstract;
  fallback: RateLimiterAbstract;
}

function limiter(redis: Redis | undefined, o: LimiterOptions): Limiter {
  const base = { points: o.points, duration: o.durationSeconds, keyPrefix: o.keyPrefix };
  const memory = new RateLimiterMemory(base);
  if (!redis) return { store: memory, fallback: memory };
  return { store: new RateLimiterRedis({ ...base, storeClient: redis, insuranceLimiter: memory }), fallback: memory };
}

/** Run an operation on the store, or on the in-memory twin if the store fails. */
async function withFallback<T>(l: Limiter, op: (r: RateLimiterAbstract) => Promise<T>): Promise<T> {
  try {
    return await op(l.store);
  } catch (err) {
    if (err instanceof RateLimiterRes) throw err; // "limited" is an answer, not a failure
    return op(l.fallback);
  }
}

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  resetSeconds: number;
}

/** Consume one point for `key`; never throws for "limited", only for store failures. */
async function consume(l: Limiter, key: string, points = 1): Promise<RateDecision> {
  const limit = l.store.points;
  try {
    const res = await withFallback(l, (r) => r.consume(key, points));
    return { allowed: true, limit, remaining: res.remainingPoints, resetSeconds: Math.ceil(res.msBeforeNext / 1000) };
  } catch (err) {
    if (err instanceof RateLimiterRes) {
      return { allowed: false, limit, remaining: 0, resetSeconds: Math.max(1, Math.ceil(err.msBeforeNext / 1000)) };
    }
    throw err;
  }
}

export interface LoginThrottleOptions {
  failuresPerUsername: number;
  failuresPerIp: number;
  windowSeconds: number;
}

export const DEFAULT_LOGIN_THROTTLE: LoginThrottleOptions = { failuresPerUsername: 5, failuresPerIp: 30, windowSeconds: 900 };

export class RateLimits {
  private readonly perPrincipal: Limiter;
  private readonly loginByUsername: Limiter;
  private readonly loginByIp: Limiter;

  constructor(opts: { perMinute: number; redis?: Redis; login?: LoginThrottleOptions }) {
    const login = opts.login ?? DEFAULT_LOGIN_THROTTLE;
    this.perPrincipal = limiter(opts.redis, { points: opts.perMinute, durationSeconds: 60, keyPrefix: 'sm:rl:principal' });
    this.loginByUsername = limiter(opts.redis, {
      points: login.failuresPerUsername,
      durationSeconds: login.windowSeconds,
      keyPrefix: 'sm:rl:login-user',
    });
    this.loginByIp = limiter(opts.redis, {
      points: login.failuresPerIp,
      durationSeconds: login.windowSeconds,
      keyPrefix: 'sm:rl:login-ip',
    });
  }

  /** One request by a principal. */
  request(principalKey: string): Promise<RateDecision> {
    return consume(this.perPrincipal, principalKey);
  }

  /** Seconds to wait before this login may be tried, or 0 if it may be tried now. */
  async loginBlockedFor(username: string, ip: string): Promise<number> {
    const [byUser, byIp] = await Promise.all([
      withFallback(this.loginByUsername, (r) => r.get(username.toLowerCase())),
      withFallback(this.loginByIp, (r) => r.get(ip)),
    ]);
    const wait = (res: RateLimiterRes | null, limit: number) =>
      res && res.consumedPoints >= limit ? Math.max(1, Math.ceil(res.msBeforeNext / 1000)) : 0;
    return Math.max(wait(byUser, this.loginByUsername.store.points), wait(byIp, this.loginByIp.store.points));
  }

  async loginFailed(username: string, ip: string): Promise<void> {
    await Promise.all([consume(this.loginByUsername, username.toLowerCase()), consume(this.loginByIp, ip)]);
  }

  async loginSucceeded(username: string): Promise<void> {
    await withFallback(this.loginByUsername, (r) => r.delete(username.toLowerCase()));
  }
}
