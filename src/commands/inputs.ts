/**
 * The inputs of the user and group commands, once (the ticket commands' are in tickets/inputs.ts):
 * REST uses them as request bodies and query filters, MCP picks and describes their fields. Also
 * the rule every change input shares: at least one field.
 */
import { z } from 'zod';
import { ROLES } from '../../workflows/vocabulary.js';

export const NOTHING_TO_CHANGE = 'send at least one field to change';
export const changesSomething = (v: Record<string, unknown>) => Object.values(v).some((x) => x !== undefined);

/** At least one property present (the change inputs: PATCH bodies). */
export const nonEmpty = <T extends z.ZodObject<z.ZodRawShape>>(schema: T) =>
  schema.refine(changesSomething, { message: NOTHING_TO_CHANGE });

export const RoleInput = z.enum(ROLES);

/** One field each, shared by create, update and list. */
export const UserFields = {
  username: z.string().regex(/^[A-Za-z0-9._-]{3,150}$/, '3–150 letters, digits, dots, dashes or underscores'),
  email: z.email('must be an e-mail address').max(254),
  full_name: z.string().trim().min(1).max(200),
  password: z.string().min(8, 'must be at least 8 characters').max(1024),
  role: RoleInput,
  group_id: z.uuid(),
  search: z.string().trim().min(1).max(100),
};

export const UserCreateInput = z
  .object({
    username: UserFields.username,
    email: UserFields.email,
    full_name: UserFields.full_name,
    password: UserFields.password,
    role: UserFields.role.default('agent'),
  })
  .strict();
export type UserCreate = z.output<typeof UserCreateInput>;

export const UserUpdateInput = nonEmpty(
  z
    .object({
      email: UserFields.email.optional(),
      full_name: UserFields.full_name.optional(),
      role: UserFields.role.optional(),
      is_active: z.boolean().optional(),
      password: UserFields.password.optional(),
    })
    .strict(),
);
export type UserUpdate = z.output<typeof UserUpdateInput>;

const GroupName = z.string().trim().min(1).max(100);
const GroupDescription = z.string().max(1000);

export const GroupCreateInput = z.object({ name: GroupName, description: GroupDescription.default('') }).strict();
export type GroupCreate = z.output<typeof GroupCreateInput>;

export const GroupUpdateInput = nonEmpty(z.object({ name: GroupName.optional(), description: GroupDescription.optional() }).strict());
export type GroupUpdate = z.output<typeof GroupUpdateInput>;

export const GroupMemberAddInput = z.object({ user_id: z.uuid(), is_lead: z.boolean().default(false) }).strict();
export type GroupMemberAdd = z.output<typeof GroupMemberAddInput>;
