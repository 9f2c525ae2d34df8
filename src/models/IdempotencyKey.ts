import { BaseModel } from './BaseModel.js';

export class IdempotencyKey extends BaseModel {
  static override jsonAttributes = ['responseBody'];
  static override tableName = 'idempotency_keys';

  id!: string;
  principal!: string;
  key!: string;
  method!: string;
  path!: string;
  requestHash!: string;
  responseStatus!: number | null;
  responseBody!: unknown;
  resourceId!: string | null;
  createdAt!: Date;
  expiresAt!: Date;
}
