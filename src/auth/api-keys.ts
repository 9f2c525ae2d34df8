/**
 * API keys look like `smk_<prefix>_<secret>`: the prefix is visible and indexed, the whole key is
 * stored only as a SHA-256 hash (a 256-bit random secret needs no slow hash).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const KEY_PATTERN = /^smk_([A-Za-z0-9]{8})_([A-Za-z0-9_-]{43})$/;

export function generateApiKey(): { plain: string; prefix: string; hash: string } {
  const prefix = randomBytes(6).toString('base64url').replace(/[-_]/g, 'x').slice(0, 8);
  const plain = `smk_${prefix}_${randomBytes(32).toString('base64url')}`;
  return { plain, prefix, hash: hashApiKey(plain) };
}

export function hashApiKey(plain: string): string {
  return createHash('sha256').update(plain).digest('hex');
}

/** The prefix of a well-formed key, or null. */
export function apiKeyPrefix(plain: string): string | null {
  return KEY_PATTERN.exec(plain)?.[1] ?? null;
}

export function looksLikeApiKey(value: string): boolean {
  return value.startsWith('smk_');
}

export function apiKeyMatches(plain: string, storedHash: string): boolean {
  const a = Buffer.from(hashApiKey(plain), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
