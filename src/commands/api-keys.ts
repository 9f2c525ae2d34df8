/** API keys: everyone manages their own; admins see and revoke everyone's. */
import { generateApiKey } from '../auth/api-keys.js';
import { notFound, validationFailed } from '../errors/index.js';
import { announcePrincipalChange } from '../events/principals.js';
import { ApiKey, type ApiKeyScope } from '../models/index.js';
import { authorize, can, grantableScopes } from '../policies/index.js';
import type { CommandContext } from './context.js';

type Ctx = Pick<CommandContext, 'principal' | 'db'>;

export async function apiKeyCreator(
  ctx: Ctx,
  input: { name: string; scopes: ApiKeyScope[]; expires_at: Date | null },
): Promise<{ key: ApiKey; plain: string }> {
  authorize(ctx.principal, 'apiKeys.manageOwn');
  const allowed = grantableScopes(ctx.principal.role);
  const refused = input.scopes.filter((s) => !allowed.includes(s));
  if (refused.length) {
    throw validationFailed([{ in: 'body', path: 'scopes', message: `Your role may not grant: ${refused.join(', ')}.` }]);
  }
  const generated = generateApiKey();
  const key = await ApiKey.query(ctx.db)
    .insert({
      userId: ctx.principal.user.id,
      name: input.name,
      keyPrefix: generated.prefix,
      keyHash: generated.hash,
      scopes: input.scopes,
      expiresAt: input.expires_at,
    } as Partial<ApiKey>)
    .returning('*');
  return { key, plain: generated.plain };
}

export async function apiKeyLister(ctx: Ctx, q: { page: number; page_size: number; include_revoked: boolean }) {
  authorize(ctx.principal, 'apiKeys.manageOwn');
  const query = ApiKey.query(ctx.db).orderBy('created_at', 'desc');
  if (!can(ctx.principal, 'apiKeys.manageAll')) query.where('user_id', ctx.principal.user.id);
  if (!q.include_revoked) query.whereNull('revoked_at');
  return query.page(q.page - 1, q.page_size);
}

/** Revocation is immediate (every request re-reads the key; open event streams end) and idempotent. */
export async function apiKeyRevoker(ctx: Ctx, id: string): Promise<void> {
  authorize(ctx.principal, 'apiKeys.manageOwn');
  const key = await ApiKey.query(ctx.db).findById(id);
  if (!key || (key.userId !== ctx.principal.user.id && !can(ctx.principal, 'apiKeys.manageAll'))) throw notFound('API key');
  if (key.revokedAt) return;
  await ctx.db.transaction(async (trx) => {
    await ApiKey.query(trx)
      .patch({ revokedAt: new Date() } as Partial<ApiKey>)
      .where('id', id);
    await announcePrincipalChange(trx, { apiKeyId: id });
  });
}
