import { BaseModel } from './BaseModel.js';

export type ApiKeyScope = 'tickets:read' | 'tickets:write' | 'admin';

export class ApiKey extends BaseModel {
  static override tableName = 'api_keys';

  id!: string;
  userId!: string;
  name!: string;
  keyPrefix!: string;
  keyHash!: string;
  scopes!: ApiKeyScope[];
  lastUsedAt!: Date | null;
  expiresAt!: Date | null;
  revokedAt!: Date | null;
  createdAt!: Date;
}
