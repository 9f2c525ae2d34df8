import { UserCreateInput, UserFields, UserUpdateInput } from '../../../commands/inputs.js';
import { PaginationQuery, QueryBoolean } from '../../pagination.js';

/** The bodies are the commands' own input schemas (src/commands/inputs.ts). */
export const UserCreateSchema = UserCreateInput;
export const UserUpdateSchema = UserUpdateInput;

export const UserListQuerySchema = PaginationQuery.extend({
  role: UserFields.role.optional(),
  is_active: QueryBoolean.optional(),
  group_id: UserFields.group_id.optional(),
  search: UserFields.search.optional(),
});
