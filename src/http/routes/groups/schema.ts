import { z } from 'zod';
import { UserSchema } from '../auth/schema.js';
import { GroupCreateInput, GroupMemberAddInput, GroupUpdateInput } from '../../../commands/inputs.js';
import { Timestamp } from '../common.js';

/** The bodies are the commands' own input schemas (src/commands/inputs.ts). */
export const GroupCreateSchema = GroupCreateInput;
export const GroupUpdateSchema = GroupUpdateInput;
export const GroupMemberAddSchema = GroupMemberAddInput;

export const MemberParams = z.object({ id: z.uuid(), user_id: z.uuid() });

export const GroupSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string(),
    member_count: z.number().int().optional(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('Group');

export const GroupMemberSchema = z.object({ user: UserSchema, is_lead: z.boolean(), joined_at: Timestamp }).openapi('GroupMember');

export const GroupDetailSchema = GroupSchema.extend({ member_count: z.number().int(), members: z.array(GroupMemberSchema) }).openapi(
  'GroupDetail',
);
