/**
 * Open streams and the credentials they were opened with. A stream keeps the principal it was
 * opened with; deactivating its user, revoking its key or changing its role must end it, as it ends
 * every later request. Those changes announce themselves on `servicemeow_principals` (in their own
 * transaction, so only a committed change is heard), every API instance's hub hears it and
 * re-checks the streams concerned at once; and every stream is re-checked on an interval anyway
 * (an expiring token, a change made by hand in the database).
 */
import type { Knex } from 'knex';
import type { Principal } from '../auth/principal.js';
import { ApiKey, GroupMembership, User } from '../models/index.js';

export const PRINCIPALS_CHANNEL = 'servicemeow_principals';

/** Announce (at commit) that a user's or an API key's standing changed. */
export async function announcePrincipalChange(
  trx: Knex | Knex.Transaction,
  change: { userId: string } | { apiKeyId: string },
): Promise<void> {
  const payload = 'userId' in change ? `user:${change.userId}` : `api_key:${change.apiKeyId}`;
  await trx.raw('SELECT pg_notify(?, ?)', [PRINCIPALS_CHANNEL, payload]);
}

/** What a notification names, or null for a payload that is not ours. */
export function parsePrincipalChange(payload: string | undefined): { userId: string } | { apiKeyId: string } | null {
  const m = /^(user|api_key):([0-9a-f-]{36})$/.exec(payload ?? '');
  if (!m) return null;
  return m[1] === 'user' ? { userId: m[2]! } : { apiKeyId: m[2]! };
}

/** A stream's credential: who it acts as and until when the credential itself is valid. */
export interface StreamCredential {
  principal: Principal;
  /** a JWT's expiry (ms since epoch); null for API keys (their expiry is re-read) */
  expiresAt: number | null;
}

export type CredentialVerdict =
  { ok: true; groupIds: string[] } | { ok: false; code: 'unauthorized' | 'principal_changed'; message: string };

/**
 * Re-check many credentials with three queries, whatever their number: the user still active with
 * the same role, the key neither revoked nor expired with the same scopes, the token not expired;
 * and the agents' current group memberships (visibility follows them).
 */
export async function recheckCredentials(db: Knex, creds: StreamCredential[], now = Date.now()): Promise<CredentialVerdict[]> {
  const userIds = [...new Set(creds.map((c) => c.principal.user.id))];
  const keyIds = [...new Set(creds.map((c) => c.principal.apiKeyId).filter((id): id is string => id !== null))];
  const [users, keys, memberships] = await Promise.all([
    userIds.length ? User.query(db).select('id', 'isActive', 'role').whereIn('id', userIds) : [],
    keyIds.length ? ApiKey.query(db).select('id', 'revokedAt', 'expiresAt', 'scopes', 'userId').whereIn('id', keyIds) : [],
    userIds.length ? GroupMembership.query(db).select('userId', 'groupId').whereIn('userId', userIds) : [],
  ]);
  const userById = new Map(users.map((u) => [u.id, u]));
  const keyById = new Map(keys.map((k) => [k.id, k]));
  const groupsOf = new Map<string, string[]>();
  for (const m of memberships) groupsOf.set(m.userId, [...(groupsOf.get(m.userId) ?? []), m.groupId]);

  return creds.map(({ principal, expiresAt }): CredentialVerdict => {
    const user = userById.get(principal.user.id);
    if (!user || !user.isActive) return { ok: false, code: 'unauthorized', message: 'This user is deactivated.' };
    if (expiresAt !== null && expiresAt <= now)
      return { ok: false, code: 'unauthorized', message: 'The access token expired: reconnect with a fresh one.' };
    if (principal.apiKeyId) {
      const key = keyById.get(principal.apiKeyId);
      if (!key || key.revokedAt || (key.expiresAt && key.expiresAt.getTime() <= now)) {
        return { ok: false, code: 'unauthorized', message: 'This API key is revoked or expired.' };
      }
      if (JSON.stringify([...key.scopes].sort()) !== JSON.stringify([...(principal.scopes ?? [])].sort())) {
        return { ok: false, code: 'principal_changed', message: "This API key's scopes changed: reconnect." };
      }
    }
    if (user.role !== principal.role) return { ok: false, code: 'principal_changed', message: 'Your role changed: reconnect.' };
    return { ok: true, groupIds: groupsOf.get(principal.user.id) ?? [] };
  });
}
