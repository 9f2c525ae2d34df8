/**
 * The contract between the API, the MCP server and the ticket workflows: workflow IDs, search
 * attributes, and the signal/query/update definitions. Imported by workflows, so it must stay
 * deterministic and free of Node built-ins.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { TicketChanges, TicketSnapshot } from './ticket-state.js';
import type { SlaTerms, SlaTimelineEntry, TicketSla } from './sla/clock.js';
import type { SlaMatchInput } from './sla/match.js';
import type { ActorType, TicketChannel, TicketPriority, TicketStatus, WriteFailureKind } from './vocabulary.js';

export const TICKET_WORKFLOW_PREFIX = 'ticket-';

/** The business key of a ticket's workflow: `ticket-<uuid>`. */
export function ticketWorkflowId(ticketId: string): string {
  return `${TICKET_WORKFLOW_PREFIX}${ticketId}`;
}

// Search attributes hold no personal data (they are stored unencrypted): ids, numbers and enums.
export const TicketNumberKey = defineSearchAttributeKey('TicketNumber', SearchAttributeType.KEYWORD);
export const TicketStatusKey = defineSearchAttributeKey('TicketStatus', SearchAttributeType.KEYWORD);
export const TicketPriorityKey = defineSearchAttributeKey('TicketPriority', SearchAttributeType.KEYWORD);
export const AssignedGroupKey = defineSearchAttributeKey('AssignedGroup', SearchAttributeType.KEYWORD);
export const AssignedUserKey = defineSearchAttributeKey('AssignedUser', SearchAttributeType.KEYWORD);
export const SlaBreachedKey = defineSearchAttributeKey('SlaBreached', SearchAttributeType.BOOL);

/** Every custom search attribute the product needs registered on its namespace. */
export const TICKET_SEARCH_ATTRIBUTES = [
  TicketNumberKey,
  TicketStatusKey,
  TicketPriorityKey,
  AssignedGroupKey,
  AssignedUserKey,
  SlaBreachedKey,
] as const;

export type { ActorType, TicketPriority, TicketStatus } from './vocabulary.js';

export interface Actor {
  type: ActorType;
  /** user id for users and API keys (the key's owner); null for the system */
  userId: string | null;
  apiKeyId?: string | null;
}

/** What the API hands the workflow when a ticket is created. */
export interface TicketCreateInput {
  id: string;
  title: string;
  description: string;
  priority: TicketPriority;
  category: string | null;
  tags: string[];
  assignedGroupId: string | null;
  assignedUserId: string | null;
  createdVia: TicketChannel;
  actor: Actor;
  /** ISO time the API accepted the request */
  requestedAt: string;
  /**
   * The priority's SLA terms when the API accepted the request (null: no policy), so a create that
   * waits for a worker runs under the policy it was accepted under. Absent in older histories: the
   * creation activity then reads the policy in force when it runs.
   */
  slaTerms?: SlaTerms | null;
  /** the API request (X-Request-Id) that asked for it, for the logs of a failed write */
  requestId?: string;
}

/** The workflow's own view of its ticket, returned by `created` and the `state` query. */
export interface TicketState {
  id: string;
  ticketNumber: string;
  status: TicketStatus;
  priority: TicketPriority;
  assignedGroupId: string | null;
  assignedUserId: string | null;
  version: number;
}

/** Waits until the ticket's row is written and returns its state: the result of a create. */
export const createdUpdate = defineUpdate<TicketState>('created');

/** The workflow's live state. */
export const stateQuery = defineQuery<TicketSnapshot | null>('state');

/** The live SLA clocks and their timeline; the caller computes figures at its own `now`. */
export interface SlaView {
  sla: TicketSla;
  timeline: SlaTimelineEntry[];
  /** oldest timeline entries dropped to keep the state bounded */
  timelineDropped: number;
}
export const slaQuery = defineQuery<SlaView | null>('sla');

/** Every mutation names its request, so a retry (even across continue-as-new) is answered, not re-applied. */
interface MutationRequest {
  requestId: string;
  actor: Actor;
  /** the API request (X-Request-Id) that sent it, for the logs of a failed write */
  apiRequestId?: string;
}

export interface ChangeRequest extends MutationRequest {
  /** If-Match: the version the caller read, or null */
  expectedVersion: number | null;
  changes: TicketChanges;
  /**
   * A note written in the same version as the change (a status move with its reason): both or
   * neither, and none when the change changes nothing. Absent in histories recorded before it.
   */
  note?: ChangeNote;
  /**
   * When the change moves a field SLA rules match on: the terms the API matched (null: no policy)
   * for `slaBasis`, the ticket's matched fields after the change. Used if the basis still holds
   * when the change applies, else matched again by an activity. Absent in older histories.
   */
  slaTerms?: SlaTerms | null;
  slaBasis?: SlaMatchInput;
}

/** A note carried by a change; its content already sanitised by the API. */
export interface ChangeNote {
  noteId: string;
  content: string;
  isInternal: boolean;
}

export interface NoteRequest extends MutationRequest {
  noteId: string;
  /** already sanitised by the API */
  content: string;
  isInternal: boolean;
  /** for an edit: the content it replaces (for the audit log) */
  previousContent?: string;
}

export interface DeleteRequest extends MutationRequest {
  expectedVersion: number | null;
}

/** Files already stored under generated names; the workflow records them (rows, audit, event). */
export interface AttachmentMeta {
  id: string;
  storedName: string;
  originalFilename: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  noteId: string | null;
}

export interface AttachmentsRequest extends MutationRequest {
  op: 'add' | 'delete';
  attachments: AttachmentMeta[];
}

export interface MutationResult {
  version: number;
  changed: boolean;
}

/** Apply an edited SLA policy's new version to a ticket running on an older one (sent by the SLA repair batch). */
export interface SlaRetargetRequest extends MutationRequest {
  /** `default:<priority>` or the SLA rule's id: a ticket on another policy ignores the request */
  policyKey: string;
  /** a ticket already on this version (or a later one) ignores the request */
  version: number;
  /** the policy's terms per priority (the ticket takes its own priority's) */
  terms: Partial<Record<TicketPriority, SlaTerms>>;
}

export const changeUpdate = defineUpdate<MutationResult, [ChangeRequest]>('change');
export const addNoteUpdate = defineUpdate<MutationResult, [NoteRequest]>('addNote');
export const editNoteUpdate = defineUpdate<MutationResult, [NoteRequest]>('editNote');
export const deleteUpdate = defineUpdate<MutationResult, [DeleteRequest]>('delete');
export const attachmentsUpdate = defineUpdate<MutationResult, [AttachmentsRequest]>('attachments');
export const slaRetargetUpdate = defineUpdate<MutationResult, [SlaRetargetRequest]>('slaRetarget');

/** The other ticket of a merge, as the API resolved it. */
export interface MergeTicketRef {
  id: string;
  ticketNumber: string;
}

/** Merge this ticket (the source) into `target` (workflows/mutations/merge.ts). */
export interface MergeRequest extends MutationRequest {
  /** If-Match on the source */
  expectedVersion: number | null;
  target: MergeTicketRef;
  /** a note written on the source in the merge's version (already sanitised) */
  note?: ChangeNote;
}

/** Sent by the source's merge (through an activity) to the target: record that `source` was merged in. */
export interface AbsorbRequest extends MutationRequest {
  source: MergeTicketRef;
  /** the instant the source's merge was decided */
  at: string;
}

export const mergeUpdate = defineUpdate<MutationResult, [MergeRequest]>('merge');
export const absorbUpdate = defineUpdate<MutationResult, [AbsorbRequest]>('absorb');

/** The Update id of a source's absorb on its target: one per source, so a retried merge is answered, not applied twice. */
export const absorbUpdateId = (sourceId: string): string => `absorb-${sourceId}`;

/** The details of a permanent write failure (TICKET_FAILURES.invalidReference / unwritableChange in ./vocabulary.ts): its kind and the SQLSTATE when the database refused it. */
export interface WriteFailureDetails {
  kind: WriteFailureKind;
  sqlstate: string | null;
}
