import { BaseModel } from './BaseModel.js';
import type { ActorType } from '../../workflows/definitions.js';

export class AuditLog extends BaseModel {
  static override jsonAttributes = ['metadata'];
  static override tableName = 'audit_log';

  id!: string;
  ticketId!: string | null;
  ticketVersion!: number | null;
  actorType!: ActorType;
  actorId!: string | null;
  apiKeyId!: string | null;
  action!: string;
  fieldChanged!: string | null;
  oldValue!: unknown;
  newValue!: unknown;
  metadata!: Record<string, unknown>;
  createdAt!: Date;
}
