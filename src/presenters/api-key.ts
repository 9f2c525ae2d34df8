import type { ApiKey } from '../models/index.js';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** Metadata only: the plain key exists once, in the create response, and the hash never leaves. */
export function presentApiKey(k: ApiKey) {
  return {
    id: k.id,
    name: k.name,
    key_prefix: k.keyPrefix,
    user_id: k.userId,
    scopes: k.scopes,
    last_used_at: iso(k.lastUsedAt),
    expires_at: iso(k.expiresAt),
    revoked_at: iso(k.revokedAt),
    created_at: k.createdAt.toISOString(),
  };
}
