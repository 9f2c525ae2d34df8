/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): the secret is `whsec_` + base64 of
 * random bytes; the signature is `v1,` + base64(HMAC-SHA256(key, `${id}.${timestamp}.${body}`)),
 * with the key being the secret's decoded bytes. `X-ServiceMeow-Signature` carries the hex
 * HMAC-SHA256 of the body alone with the same key (the seed design's header).
 */
import { createHmac, randomBytes } from 'node:crypto';

const PREFIX = 'whsec_';

/** A new signing secret: 32 random bytes. */
export function generateSecret(): string {
  return PREFIX + randomBytes(32).toString('base64');
}

function keyOf(secret: string): Buffer {
  if (!secret.startsWith(PREFIX)) throw new Error('webhook secrets start with whsec_');
  return Buffer.from(secret.slice(PREFIX.length), 'base64');
}

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
  'x-servicemeow-signature': string;
}

/**
 * Headers for one attempt: `id` stays the same across retries; `timestampSeconds` is the attempt's.
 * `alsoSignWith` adds one more `v1,` signature per secret, space-separated as the scheme allows
 * (a receiver accepts the message if any signature verifies): used while a rotated-out secret is
 * still honoured. `X-ServiceMeow-Signature` carries the current secret's only.
 */
export function signedHeaders(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: string,
  alsoSignWith: readonly string[] = [],
): SignedHeaders {
  const timestamp = String(Math.floor(timestampSeconds));
  const sign = (s: string) => `v1,${createHmac('sha256', keyOf(s)).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
  return {
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    'webhook-signature': [secret, ...alsoSignWith].map(sign).join(' '),
    'x-servicemeow-signature': createHmac('sha256', keyOf(secret)).update(body).digest('hex'),
  };
}
