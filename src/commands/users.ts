/** User administration: admins create and update; everyone signed in may read. */
import { hashPassword } from '../auth/passwords.js';
import { revokeAllForUser } from '../auth/refresh-tokens.js';
import { conflict, notFound } from '../errors/index.js';
import { announcePrincipalChange } from '../events/principals.js';
import { GroupMembership, User, type Role } from '../models/index.js';
import { authorize } from '../policies/index.js';
import { userByName } from '../store/users.js';
import type { CommandContext } from './context.js';
import type { UserCreate, UserUpdate } from './inputs.js';

type Ctx = Pick<CommandContext, 'principal' | 'db'>;

export async function userCreator(ctx: Ctx, input: UserCreate): Promise<User> {
  authorize(ctx.principal, 'users.create');
  await assertUnique(ctx, input.username, input.email);
  const passwordHash = await hashPassword(input.password);
  return User.query(ctx.db)
    .insert({
      username: input.username,
      email: input.email,
      fullName: input.full_name,
      role: input.role,
      isActive: true,
      passwordHash,
    } as Partial<User>)
    .returning('*');
}

/**
 * Deactivation or a password change revokes the user's refresh tokens (their access tokens and API
 * keys stop working at once because every request re-reads `is_active`; open event streams are
 * told). The last active admin can be neither demoted nor deactivated.
 */
export async function userUpdater(ctx: Ctx, id: string, input: UserUpdate): Promise<User> {
  authorize(ctx.principal, 'users.update');
  const passwordHash = input.password ? await hashPassword(input.password) : undefined;
  return ctx.db.transaction(async (trx) => {
    const user = await User.query(trx).findById(id).forUpdate();
    if (!user) throw notFound('User');
    if (input.email && input.email.toLowerCase() !== user.email.toLowerCase()) await assertUnique({ ...ctx, db: trx }, null, input.email);
    const losesAdmin = user.role === 'admin' && user.isActive && ((input.role && input.role !== 'admin') || input.is_active === false);
    if (losesAdmin) {
      const admins = await User.query(trx).where({ role: 'admin', isActive: true }).resultSize();
      if (admins <= 1) throw conflict('last_admin', 'This is the last active admin: make another user admin first.');
    }
    const patch: Partial<User> = {};
    if (input.email !== undefined) patch.email = input.email;
    if (input.full_name !== undefined) patch.fullName = input.full_name;
    if (input.role !== undefined) patch.role = input.role;
    if (input.is_active !== undefined) patch.isActive = input.is_active;
    if (passwordHash) patch.passwordHash = passwordHash;
    const updated = await User.query(trx).patchAndFetchById(id, patch);
    if (input.is_active === false || passwordHash) await revokeAllForUser(trx, id);
    // open event streams of this user end (or narrow) at commit, as its next request would
    if (input.is_active === false || (input.role !== undefined && input.role !== user.role))
      await announcePrincipalChange(trx, { userId: id });
    return updated;
  });
}

export async function userFinder(ctx: Ctx, id: string): Promise<User> {
  authorize(ctx.principal, 'users.read');
  const user = await User.query(ctx.db).findById(id);
  if (!user) throw notFound('User');
  return user;
}

export interface UserListQuery {
  page: number;
  page_size: number;
  role?: Role;
  is_active?: boolean;
  group_id?: string;
  search?: string;
}

export async function userLister(ctx: Ctx, q: UserListQuery): Promise<{ results: User[]; total: number }> {
  authorize(ctx.principal, 'users.read');
  const query = User.query(ctx.db).orderBy('username');
  if (q.role) query.where('role', q.role);
  if (q.is_active !== undefined) query.where('is_active', q.is_active);
  if (q.group_id) query.whereIn('id', GroupMembership.query(ctx.db).select('user_id').where('group_id', q.group_id));
  if (q.search) {
    const like = `%${q.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query.where((w) => w.whereILike('username', like).orWhereILike('full_name', like).orWhereILike('email', like));
  }
  return query.page(q.page - 1, q.page_size);
}

async function assertUnique(ctx: Ctx, username: string | null, email: string | null): Promise<void> {
  if (username && (await userByName(ctx.db, username))) {
    throw conflict('username_taken', 'That username is already taken.', { field: 'username' });
  }
  if (email && (await User.query(ctx.db).whereRaw('lower(email) = lower(?)', [email]).first())) {
    throw conflict('email_taken', 'That e-mail address is already in use.', { field: 'email' });
  }
}
