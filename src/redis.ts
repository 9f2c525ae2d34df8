/** The optional Redis client (REDIS_URL): shared rate limits across API instances. */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

export function connectRedis(url: string | undefined, logger?: Logger): Redis | undefined {
  if (!url) return undefined;
  // Fail fast rather than queue: the rate limiter falls back to memory while Redis is away.
  const client = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000 });
  // ioredis retries on its own; say so once per outage instead of once per attempt.
  let down = false;
  client.on('error', (err) => {
    if (!down) logger?.warn({ err: err.message }, 'Redis unreachable: rate limits fall back to this instance');
    down = true;
  });
  client.on('ready', () => {
    if (down) logger?.info('Redis reachable again');
    down = false;
  });
  return client;
}

/** Close politely when connected, at once otherwise (quit() would fail with no connection). */
export async function closeRedis(client: Redis | undefined): Promise<void> {
  if (!client) return;
  if (client.status === 'ready') await client.quit();
  else client.disconnect();
}
