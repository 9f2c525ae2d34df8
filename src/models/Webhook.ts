import type { Pojo } from 'objection';
import { BaseModel } from './BaseModel.js';

export class Webhook extends BaseModel {
  static override tableName = 'webhooks';
  static override touchesUpdatedAt = true;

  id!: string;
  url!: string;
  eventTypes!: string[];
  description!: string;
  isActive!: boolean;
  secret!: string;
  /** still signing, beside `secret`, until previousSecretExpiresAt (set by a rotation) */
  previousSecret!: string | null;
  previousSecretExpiresAt!: Date | null;
  disabledReason!: string | null;
  disabledAt!: Date | null;
  failingSince!: Date | null;
  createdById!: string | null;
  createdAt!: Date;
  updatedAt!: Date;

  override $formatJson(json: Pojo): Pojo {
    const { secret: _hidden, previousSecret: _alsoHidden, ...rest } = super.$formatJson(json);
    return rest;
  }
}
