import { z } from 'zod';
import { UserSchema } from '../auth/schema.js';
import { nonEmpty, Timestamp } from '../common.js';

export const GroupCreateSchema = z
  .object({ name: z.string().trim().min(1).max(100), description: z.string().max(1000).default('') })
  .strict();

export const GroupUpdateSchema = nonEmpty(
  z.object({ name: z.string().trim().min(1).max(100).optional(), description: z.string().max(1000).optional() }).strict(),
);

export const GroupMemberAddSchema = z.object({ user_id: z.uuid(), is_lead: z.boolean().default(false) }).strict();

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
