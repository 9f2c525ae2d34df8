import type { GroupMember, GroupWithCount } from '../commands/groups.js';
import type { Group } from '../models/index.js';
import { presentUser } from './user.js';

export function presentGroup(g: Group | GroupWithCount) {
  return {
    id: g.id,
    name: g.name,
    description: g.description,
    ...('memberCount' in g ? { member_count: Number(g.memberCount) } : {}),
    created_at: g.createdAt.toISOString(),
    updated_at: g.updatedAt.toISOString(),
  };
}

export function presentMember(m: GroupMember) {
  return { user: presentUser(m.user), is_lead: m.isLead, joined_at: m.joinedAt.toISOString() };
}

export function presentGroupDetail(g: Group, members: GroupMember[]) {
  return { ...presentGroup(g), member_count: members.length, members: members.map(presentMember) };
}
