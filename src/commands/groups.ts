/** Groups and their members (admins and managers administer; everyone signed in may read). */
import { conflict, notFound, validationFailed } from '../errors/index.js';
import { Group, GroupMembership, User } from '../models/index.js';
import { authorize } from '../policies/index.js';
import type { CommandContext } from './context.js';
import type { GroupCreate, GroupMemberAdd, GroupUpdate } from './inputs.js';

type Ctx = Pick<CommandContext, 'principal' | 'db'>;

export interface GroupWithCount extends Group {
  memberCount: number;
}

export async function groupCreator(ctx: Ctx, input: GroupCreate): Promise<Group> {
  authorize(ctx.principal, 'groups.create');
  await assertNameFree(ctx, input.name, null);
  return Group.query(ctx.db)
    .insert(input as Partial<Group>)
    .returning('*');
}

export async function groupUpdater(ctx: Ctx, id: string, input: GroupUpdate): Promise<Group> {
  authorize(ctx.principal, 'groups.update');
  const group = await Group.query(ctx.db).findById(id);
  if (!group) throw notFound('Group');
  if (input.name) await assertNameFree(ctx, input.name, id);
  return Group.query(ctx.db).patchAndFetchById(id, input as Partial<Group>);
}

export async function groupLister(ctx: Ctx, q: { page: number; page_size: number }): Promise<{ results: GroupWithCount[]; total: number }> {
  authorize(ctx.principal, 'groups.read');
  const page = await Group.query(ctx.db)
    .select('groups.*', Group.relatedQuery('memberships').count().as('memberCount'))
    .orderBy('name')
    .page(q.page - 1, q.page_size);
  return { results: page.results as GroupWithCount[], total: page.total };
}

/** The groups `userId` belongs to, by name (what a principal may always read about itself). */
export async function memberGroups(ctx: Pick<CommandContext, 'db'>, userId: string): Promise<Group[]> {
  return Group.query(ctx.db).whereIn('id', GroupMembership.query(ctx.db).select('groupId').where({ userId })).orderBy('name');
}

export interface GroupMember {
  user: User;
  isLead: boolean;
  joinedAt: Date;
}

export async function groupFinder(ctx: Ctx, id: string): Promise<{ group: Group; members: GroupMember[] }> {
  authorize(ctx.principal, 'groups.read');
  const group = await Group.query(ctx.db).findById(id);
  if (!group) throw notFound('Group');
  const memberships = await GroupMembership.query(ctx.db).where({ groupId: id }).orderBy('joined_at');
  const users = memberships.length ? await User.query(ctx.db).findByIds(memberships.map((m) => m.userId)) : [];
  const byId = new Map(users.map((u) => [u.id, u]));
  return { group, members: memberships.map((m) => ({ user: byId.get(m.userId)!, isLead: m.isLead, joinedAt: m.joinedAt })) };
}

export async function groupMemberAdder(ctx: Ctx, groupId: string, input: GroupMemberAdd): Promise<GroupMember> {
  authorize(ctx.principal, 'groups.members.manage');
  if (!(await Group.query(ctx.db).findById(groupId))) throw notFound('Group');
  const user = await User.query(ctx.db).findById(input.user_id);
  if (!user) throw validationFailed([{ in: 'body', path: 'user_id', message: 'No user has this id.', lookup: 'users' }]);
  const inserted = await GroupMembership.query(ctx.db)
    .insert({ groupId, userId: user.id, isLead: input.is_lead } as Partial<GroupMembership>)
    .onConflict(['group_id', 'user_id'])
    .ignore()
    .returning('*');
  const row = (Array.isArray(inserted) ? inserted[0] : inserted) as GroupMembership | undefined;
  if (!row?.id) throw conflict('already_member', 'The user is already a member of this group.');
  return { user, isLead: row.isLead, joinedAt: row.joinedAt };
}

export async function groupMemberRemover(ctx: Ctx, groupId: string, userId: string): Promise<void> {
  authorize(ctx.principal, 'groups.members.manage');
  if (!(await Group.query(ctx.db).findById(groupId))) throw notFound('Group');
  const removed = await GroupMembership.query(ctx.db).delete().where({ groupId, userId });
  if (!removed) throw notFound('Membership');
}

async function assertNameFree(ctx: Ctx, name: string, exceptId: string | null): Promise<void> {
  const q = Group.query(ctx.db).whereRaw('lower(name) = lower(?)', [name]);
  if (exceptId) q.whereNot('id', exceptId);
  if (await q.first()) throw conflict('group_name_taken', 'A group with that name already exists.', { field: 'name' });
}
