import { BaseModel } from './BaseModel.js';
import { GroupMembership } from './GroupMembership.js';

export class Group extends BaseModel {
  static override tableName = 'groups';
  static override touchesUpdatedAt = true;

  id!: string;
  name!: string;
  description!: string;
  createdAt!: Date;
  updatedAt!: Date;
  memberships?: GroupMembership[];

  static override get relationMappings() {
    return {
      memberships: {
        relation: BaseModel.HasManyRelation,
        modelClass: () => GroupMembership,
        join: { from: 'groups.id', to: 'group_memberships.group_id' },
      },
    };
  }
}
