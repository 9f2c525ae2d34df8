import { BaseModel } from './BaseModel.js';

export class RefreshToken extends BaseModel {
  static override tableName = 'refresh_tokens';

  id!: string;
  userId!: string;
  familyId!: string;
  tokenHash!: string;
  expiresAt!: Date;
  revokedAt!: Date | null;
  replacedById!: string | null;
  userAgent!: string | null;
  ip!: string | null;
  createdAt!: Date;
}
