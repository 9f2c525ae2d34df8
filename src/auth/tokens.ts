/** Access JWTs: algorithm pinned, iss/aud/exp verified before any claim is read. */
import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Config } from '../config/env.js';
import { UUID_PATTERN } from '../../workflows/vocabulary.js';

export interface AccessClaims {
  sub: string;
  role: string;
}

export function signAccessToken(config: Config, user: { id: string; role: string }): { token: string; expiresIn: number } {
  const expiresIn = config.jwt.accessTokenMinutes * 60;
  const token = jwt.sign({ role: user.role }, config.jwt.secret, {
    algorithm: config.jwt.algorithm,
    subject: user.id,
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
    expiresIn,
  });
  return { token, expiresIn };
}

/**
 * The HMAC key as a KeyObject, made once per secret. Given a string, jsonwebtoken first tries to
 * read it as a PEM public key and builds the secret key in the catch: a thrown exception on every
 * request, about 0.5 ms — 18 % of the CPU of the list benchmark's process, API and client (issue 19).
 */
let cachedKey: { secret: string; key: KeyObject } | null = null;
export function hmacKey(secret: string): KeyObject {
  if (cachedKey?.secret !== secret) cachedKey = { secret, key: createSecretKey(Buffer.from(secret)) };
  return cachedKey.key;
}

/** The verified claims, or null for any token that is not ours, not valid, expired, or not naming a user id. */
export function verifyAccessToken(config: Config, token: string): AccessClaims | null {
  try {
    const claims = jwt.verify(token, hmacKey(config.jwt.secret), {
      algorithms: [config.jwt.algorithm],
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
    });
    // Our tokens name a user by id: a validly signed token naming anything else is not ours to honour.
    if (typeof claims !== 'object' || typeof claims.sub !== 'string' || !UUID_PATTERN.test(claims.sub)) return null;
    return { sub: claims.sub, role: String(claims.role) };
  } catch {
    return null;
  }
}
