import { BaseModel } from './BaseModel.js';
import type { TicketPriority } from '../../workflows/definitions.js';

/** A policy's warning levels as stored and shown: a percent of the target, or minutes before the deadline. */
export type StoredWarningLevel = { percent: number } | { minutes_before: number };
export type StoredWarningLevels = Record<'assign' | 'resolve', StoredWarningLevel[]>;

export class SlaPolicy extends BaseModel {
  static override tableName = 'sla_policies';
  static override idColumn = 'priority';
  static override touchesUpdatedAt = true;
  static override jsonAttributes = ['warningLevels', 'pauseStatuses'];

  priority!: TicketPriority;
  assignTargetSeconds!: number;
  resolveTargetSeconds!: number;
  atRiskPercent!: number;
  calendarId!: string | null;
  /** bumped by every PUT: tickets record the version they run on */
  version!: number;
  /** as the API writes them (snake_case keys); null = the single at-risk level */
  warningLevels!: StoredWarningLevels | null;
  /** null = DEFAULT_PAUSE_STATUSES */
  pauseStatuses!: Record<'assign' | 'resolve', string[]> | null;
  createdAt!: Date;
  updatedAt!: Date;
}
