import { BaseModel } from './BaseModel.js';
import type { TicketPriority } from '../../workflows/definitions.js';

export class SlaPolicy extends BaseModel {
  static override tableName = 'sla_policies';
  static override idColumn = 'priority';
  static override touchesUpdatedAt = true;

  priority!: TicketPriority;
  assignTargetSeconds!: number;
  resolveTargetSeconds!: number;
  atRiskPercent!: number;
  calendarId!: string | null;
  /** bumped by every PUT: tickets record the version they run on */
  version!: number;
  createdAt!: Date;
  updatedAt!: Date;
}
