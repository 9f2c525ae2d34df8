/** The optional Redis client (REDIS_URL): shared rate limits across API instances. */
import { Redis } from 'ioredis';

export function connectRedis(url: string | undefined): Redis | undefined {
  if (!url) return undefined;
  // Fail fast rather than queue: the rate limiter falls back to memory while Redis is away.
  return new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000 });
}
