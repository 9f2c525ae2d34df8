import type { Pojo } from 'objection';
import { BaseModel } from './BaseModel.js';
import { GroupMembership } from './GroupMembership.js';

export type { Role } from '../../workflows/vocabulary.js';
import type { Role } from '../../workflows/vocabulary.js';

export class User extends BaseModel {
  static override tableName = 'users';
  static override touchesUpdatedAt = true;

  id!: string;
  username!: string;
  email!: string;
  fullName!: string;
  passwordHash!: string;
  role!: Role;
  isActive!: boolean;
  createdAt!: Date;
  updatedAt!: Date;

  /** The hash never leaves the model, even through an accidental toJSON. */
  override $formatJson(json: Pojo): Pojo {
    const { passwordHash: _hidden, ...rest } = super.$formatJson(json);
    return rest;
  }

  static override get relationMappings() {
    return {
      memberships: {
        relation: BaseModel.HasManyRelation,
        modelClass: () => GroupMembership,
        join: { from: 'users.id', to: 'group_memberships.user_id' },
      },
    };
  }
}
