/**
 * Refresh tokens: random, stored as SHA-256 hashes, rotated on every use. All tokens descending
 * from one login share a family; presenting a token that was already rotated means it leaked, so
 * the whole family is revoked (RFC 6819 §5.2.2.3, OAuth 2.1 refresh-token rotation).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { AppError } from '../errors/index.js';
import { RefreshToken, User } from '../models/index.js';

export interface ClientMeta {
  userAgent: string | null;
  ip: string | null;
}

const hash = (plain: string) => createHash('sha256').update(plain).digest('hex');

const invalid = (code: string, message: string) =>
  new AppError(401, code, message, null, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });

/** A new token (a new family unless one is given); returns the plain value, shown only now. */
export async function issueRefreshToken(
  db: Knex,
  userId: string,
  days: number,
  meta: ClientMeta,
  familyId: string = randomUUID(),
): Promise<{ plain: string; row: RefreshToken }> {
  const plain = randomBytes(32).toString('base64url');
  const row = await RefreshToken.query(db).insert({
    userId,
    familyId,
    tokenHash: hash(plain),
    expiresAt: new Date(Date.now() + days * 86_400_000),
    userAgent: meta.userAgent?.slice(0, 500) ?? null,
    ip: meta.ip,
  } as Partial<RefreshToken>);
  return { plain, row };
}

/** Exchange a token for its successor and the user it belongs to; detects reuse. */
export async function rotateRefreshToken(db: Knex, plain: string, days: number, meta: ClientMeta): Promise<{ user: User; plain: string }> {
  const outcome = await db.transaction(async (trx) => {
    // Row lock: of two concurrent uses of one token, the second sees it rotated (= reuse).
    const current = await RefreshToken.query(trx)
      .findOne({ tokenHash: hash(plain) })
      .forUpdate();
    if (!current) return { error: invalid('invalid_refresh_token', 'The refresh token is not valid; sign in again.') };
    if (current.revokedAt) {
      await revokeFamily(trx, current.familyId);
      return {
        error: invalid(
          'refresh_token_reused',
          'This refresh token was already used; every session from that sign-in is now revoked. Sign in again.',
        ),
      };
    }
    if (current.expiresAt <= new Date())
      return { error: invalid('refresh_token_expired', 'The refresh token has expired; sign in again.') };
    const user = await User.query(trx).findById(current.userId);
    if (!user?.isActive) {
      await revokeFamily(trx, current.familyId);
      return { error: invalid('invalid_refresh_token', 'The refresh token is not valid; sign in again.') };
    }
    const next = await issueRefreshToken(trx, user.id, days, meta, current.familyId);
    await RefreshToken.query(trx)
      .patch({ revokedAt: new Date(), replacedById: next.row.id } as Partial<RefreshToken>)
      .where('id', current.id);
    return { user, plain: next.plain };
  });
  // Thrown after the transaction so a reuse's family revocation is committed, not rolled back.
  if ('error' in outcome) throw outcome.error;
  return outcome;
}

/** Logout: revokes the token's whole family (that sign-in on every device it was refreshed on). */
export async function revokeByToken(db: Knex, plain: string): Promise<void> {
  const row = await RefreshToken.query(db).findOne({ tokenHash: hash(plain) });
  if (row) await revokeFamily(db, row.familyId);
}

export async function revokeFamily(db: Knex, familyId: string): Promise<void> {
  await RefreshToken.query(db)
    .patch({ revokedAt: new Date() } as Partial<RefreshToken>)
    .where({ familyId })
    .whereNull('revoked_at');
}

/** Every live token of a user (deactivation, password change). */
export async function revokeAllForUser(db: Knex, userId: string): Promise<void> {
  await RefreshToken.query(db)
    .patch({ revokedAt: new Date() } as Partial<RefreshToken>)
    .where({ userId })
    .whereNull('revoked_at');
}
