/**
 * The authorization request between `/oauth/authorize` (validated by the SDK) and the consent page:
 * signed (HMAC with JWT_SECRET, algorithm pinned, own audience, 10 minutes), so the page and its
 * form carry it without server-side state and nobody can alter it on the way. Plus the CSRF token of
 * the consent form: an HMAC of the browser's CSRF cookie and the request it answers.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Config } from '../config/env.js';
import { hmacKey } from '../auth/tokens.js';

const AUDIENCE = 'servicemeow-oauth-consent';
const LIFETIME_SECONDS = 10 * 60;

export interface ConsentRequest {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  state?: string;
  /** as requested (possibly empty: "whatever my role allows") */
  scopes: string[];
  resource: string;
}

export function signConsentRequest(config: Config, r: ConsentRequest): string {
  return jwt.sign({ r }, config.jwt.secret, {
    algorithm: config.jwt.algorithm,
    audience: AUDIENCE,
    issuer: config.jwt.issuer,
    expiresIn: LIFETIME_SECONDS,
  });
}

/** The request, or null when the value is not one we signed or has expired. */
export function verifyConsentRequest(config: Config, value: string): ConsentRequest | null {
  try {
    const claims = jwt.verify(value, hmacKey(config.jwt.secret), {
      algorithms: [config.jwt.algorithm],
      audience: AUDIENCE,
      issuer: config.jwt.issuer,
    });
    const r = typeof claims === 'object' ? (claims as { r?: ConsentRequest }).r : undefined;
    if (!r || typeof r.clientId !== 'string' || typeof r.redirectUri !== 'string' || typeof r.codeChallenge !== 'string') return null;
    if (!Array.isArray(r.scopes) || typeof r.resource !== 'string') return null;
    return r;
  } catch {
    return null;
  }
}

/** The form's CSRF token for this cookie value and this request. */
export function csrfTokenFor(config: Config, cookieValue: string, request: string): string {
  return createHmac('sha256', config.jwt.secret).update(`oauth-consent\n${cookieValue}\n${request}`).digest('base64url');
}

export function csrfTokenMatches(config: Config, cookieValue: string | undefined, request: string, posted: unknown): boolean {
  if (!cookieValue || typeof posted !== 'string') return false;
  const a = Buffer.from(csrfTokenFor(config, cookieValue, request));
  const b = Buffer.from(posted);
  return a.length === b.length && timingSafeEqual(a, b);
}
