/**
 * Who is acting: a user signed in with a JWT, or an API key acting for its owner. Resolved once per
 * request (REST) or per MCP call, and passed explicitly to commands and policies.
 */
import type { Knex } from 'knex';
import type { Config } from '../config/env.js';
import { ApiKey, User, type ApiKeyScope, type Role } from '../models/index.js';
import { findAccessToken } from '../oauth/provider.js';
import { grantableScopes } from '../policies/index.js';
import type { Actor } from '../../workflows/definitions.js';
import { apiKeyMatches, apiKeyPrefix } from './api-keys.js';
import { verifyAccessToken } from './tokens.js';

export interface Principal {
  user: User;
  role: Role;
  actorType: 'user' | 'api_key';
  apiKeyId: string | null;
  /** null: unrestricted (JWT); otherwise the key's (or OAuth token's) scopes */
  scopes: ApiKeyScope[] | null;
  /** stable identity for rate limits and idempotency keys */
  key: string;
}

/** The workflow-facing description of a principal. */
export function actorOf(p: Principal): Actor {
  return { type: p.actorType, userId: p.user.id, apiKeyId: p.apiKeyId };
}

/** A user acting as themselves (signed in with a JWT): their role, no scope limits. */
export function userPrincipal(user: User): Principal {
  return { user, role: user.role, actorType: 'user', apiKeyId: null, scopes: null, key: `user:${user.id}` };
}

export async function principalFromJwt(db: Knex, config: Config, token: string): Promise<Principal | null> {
  const claims = verifyAccessToken(config, token);
  if (!claims) return null;
  const user = await User.query(db).findById(claims.sub);
  if (!user || !user.isActive) return null;
  return userPrincipal(user);
}

export async function principalFromApiKey(db: Knex, plain: string): Promise<Principal | null> {
  const prefix = apiKeyPrefix(plain);
  if (!prefix) return null;
  const key = await ApiKey.query(db).findOne({ keyPrefix: prefix });
  if (!key || key.revokedAt || (key.expiresAt && key.expiresAt <= new Date()) || !apiKeyMatches(plain, key.keyHash)) return null;
  const user = await User.query(db).findById(key.userId);
  if (!user || !user.isActive) return null;
  // last_used_at at minute granularity: one write per key per minute, not per request.
  await ApiKey.query(db)
    .patch({ lastUsedAt: new Date() } as Partial<ApiKey>)
    .where('id', key.id)
    .where((q) => q.whereNull('last_used_at').orWhere('last_used_at', '<', db.raw("now() - interval '1 minute'")));
  return { user, role: user.role, actorType: 'api_key', apiKeyId: key.id, scopes: key.scopes, key: `api_key:${key.id}` };
}

/**
 * An OAuth access token (src/oauth) used at `resource`: the user acting through a client they
 * allowed, with the token's scopes narrowed to the user's current role. A token for another
 * resource, of a revoked grant or of a deactivated user is no credential.
 */
export async function principalFromOAuthToken(db: Knex, plain: string, resource: string): Promise<Principal | null> {
  const token = await findAccessToken(db, plain);
  if (!token || token.resource !== resource) return null;
  const user = await User.query(db).findById(token.userId);
  if (!user || !user.isActive) return null;
  const allowed = grantableScopes(user.role);
  const scopes = token.scopes.filter((s) => allowed.includes(s));
  // never an empty list: for keys that means "the whole role"
  if (scopes.length === 0) return null;
  return { user, role: user.role, actorType: 'user', apiKeyId: null, scopes, key: `oauth:${token.grantId}` };
}
