import { BaseModel } from './BaseModel.js';
import type { TicketChannel, TicketPriority, TicketStatus } from '../../workflows/vocabulary.js';
import type { TicketSla } from '../../workflows/sla/clock.js';
import type { MergeLink } from '../../workflows/ticket-state.js';

/** Read model of a ticket; written only by the ticket workflow's activities. */
export class Ticket extends BaseModel {
  static override jsonAttributes = ['slaState', 'mergedInto', 'mergedFrom'];
  static override tableName = 'tickets';
  static override touchesUpdatedAt = true;
  /**
   * The columns a ticket's JSON is made of (src/presenters/ticket.ts), which lists read instead of
   * every column: not the search vector (about as large as the text it indexes) nor the SLA columns
   * kept for filters and sorting (the presenter reads the clocks from `slaState`). A first page of
   * 21 rows is read 14–37 % faster so (`baseline_sql_first_page_columns` in bench/search.bench.ts,
   * issue 19); tests/unit/ticket-presenter-columns.test.ts keeps this list and the presenter in step.
   */
  static readonly presentedColumns = [
    'id',
    'ticketNumber',
    'title',
    'description',
    'priority',
    'status',
    'category',
    'tags',
    'assignedGroupId',
    'assignedUserId',
    'createdById',
    'createdVia',
    'version',
    'firstAssignedAt',
    'resolvedAt',
    'pausedAt',
    'totalPausedSeconds',
    'slaBreached',
    'slaState',
    'mergedInto',
    'mergedFrom',
    'createdAt',
    'updatedAt',
  ] as const satisfies readonly (keyof Ticket)[];

  id!: string;
  ticketNumber!: string;
  title!: string;
  description!: string;
  priority!: TicketPriority;
  status!: TicketStatus;
  category!: string | null;
  tags!: string[];
  assignedGroupId!: string | null;
  assignedUserId!: string | null;
  createdById!: string | null;
  createdVia!: TicketChannel;
  version!: number;
  firstAssignedAt!: Date | null;
  resolvedAt!: Date | null;
  pausedAt!: Date | null;
  totalPausedSeconds!: number;
  slaAssignTargetSeconds!: number | null;
  slaAssignDueAt!: Date | null;
  slaAssignAtRiskAt!: Date | null;
  slaAssignBreachedAt!: Date | null;
  slaAssignMetAt!: Date | null;
  slaResolveTargetSeconds!: number | null;
  slaResolveDueAt!: Date | null;
  slaResolveAtRiskAt!: Date | null;
  slaResolveBreachedAt!: Date | null;
  slaResolveMetAt!: Date | null;
  slaBreached!: boolean;
  /** the workflow's SLA clocks as of `version` */
  slaState!: TicketSla | null;
  /** the ticket this one was merged into (status `merged`), or null */
  mergedInto!: MergeLink | null;
  /** the tickets merged into this one, oldest first */
  mergedFrom!: MergeLink[];
  createdAt!: Date;
  updatedAt!: Date;
  deletedAt!: Date | null;
}
