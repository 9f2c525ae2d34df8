import { BaseModel } from './BaseModel.js';

export class GroupMembership extends BaseModel {
  static override tableName = 'group_memberships';

  id!: string;
  groupId!: string;
  userId!: string;
  isLead!: boolean;
  joinedAt!: Date;
}
