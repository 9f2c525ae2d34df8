import { z } from 'zod';
import { PaginationQuery, QueryBoolean } from '../../pagination.js';
import { nonEmpty } from '../common.js';

const Role = z.enum(['admin', 'manager', 'agent']);
const Email = z.email('must be an e-mail address').max(254);
const Password = z.string().min(8, 'must be at least 8 characters').max(1024);
const FullName = z.string().trim().min(1).max(200);

export const UserCreateSchema = z
  .object({
    username: z.string().regex(/^[A-Za-z0-9._-]{3,150}$/, '3–150 letters, digits, dots, dashes or underscores'),
    email: Email,
    full_name: FullName,
    password: Password,
    role: Role.default('agent'),
  })
  .strict();

export const UserUpdateSchema = nonEmpty(
  z
    .object({
      email: Email.optional(),
      full_name: FullName.optional(),
      role: Role.optional(),
      is_active: z.boolean().optional(),
      password: Password.optional(),
    })
    .strict(),
);

export const UserListQuerySchema = PaginationQuery.extend({
  role: Role.optional(),
  is_active: QueryBoolean.optional(),
  group_id: z.uuid().optional(),
  search: z.string().trim().min(1).max(100).optional(),
});
