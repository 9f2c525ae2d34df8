/**
 * The ticket as its workflow holds it, and the pure rules for changing it: allowed transitions,
 * stale versions, pause accounting, first assignment, and which audit entries and events a change
 * produces. Deterministic and free of I/O: the workflow and the unit tests both import it.
 */
import { TICKET_FAILURES, type TicketEventType, type TicketPriority, type TicketStatus } from './vocabulary.js';
import {
  followStatus,
  meet,
  reopenSla,
  resolveSla,
  retargetSla,
  termsDiffer,
  type SlaStep,
  type SlaTerms,
  type SlaTimelineEntry,
  type TicketSla,
} from './sla/clock.js';

export interface TicketSnapshot {
  id: string;
  ticketNumber: string;
  title: string;
  description: string;
  priority: TicketPriority;
  status: TicketStatus;
  category: string | null;
  tags: string[];
  assignedGroupId: string | null;
  assignedUserId: string | null;
  createdById: string | null;
  version: number;
  createdAt: string;
  firstAssignedAt: string | null;
  resolvedAt: string | null;
  pausedAt: string | null;
  totalPausedSeconds: number;
  deleted: boolean;
  /** the SLA clocks; absent only in histories recorded before the SLA engine */
  sla?: TicketSla;
  /** set once the ticket was merged into another (status `merged`; see workflows/mutations/merge.ts) */
  mergedInto?: MergeLink;
  /** the tickets merged into this one, oldest first (absent until the first) */
  mergedFrom?: MergeLink[];
}

/** One side of a merge: the other ticket, and when the merge was decided (ISO). */
export interface MergeLink {
  id: string;
  ticketNumber: string;
  at: string;
}

/**
 * SPEC §4: every allowed next status. `merged` is reached only through a merge (from any status but
 * itself, never by a change: see workflows/mutations/merge.ts) and never left.
 */
export const TRANSITIONS: Readonly<Record<TicketStatus, readonly TicketStatus[]>> = {
  open: ['under_investigation', 'paused', 'waiting_on_customer', 'resolved'],
  under_investigation: ['open', 'paused', 'waiting_on_customer', 'resolved'],
  paused: ['open', 'under_investigation', 'resolved'],
  waiting_on_customer: ['open', 'under_investigation', 'resolved'],
  resolved: ['open'],
  merged: [],
};

/** Fields a PATCH may change (camelCase; undefined = leave as is, null = clear). */
export interface TicketChanges {
  title?: string;
  description?: string;
  priority?: TicketPriority;
  status?: TicketStatus;
  category?: string | null;
  tags?: string[];
  assignedGroupId?: string | null;
  assignedUserId?: string | null;
}

export type RejectionType = (typeof TICKET_FAILURES)[
  'invalidTransition' | 'staleVersion' | 'ticketDeleted' | 'ticketMerged' | 'mergeRefused'];

export interface Rejection {
  type: RejectionType;
  message: string;
  details: Record<string, unknown>;
}

/** Why a change may not be applied to `s` now, or null if it may. */
export function rejectChange(s: TicketSnapshot, changes: TicketChanges, expectedVersion: number | null): Rejection | null {
  if (s.deleted) return { type: TICKET_FAILURES.ticketDeleted, message: 'The ticket was deleted.', details: {} };
  if (s.status === 'merged') {
    const into = s.mergedInto ? { id: s.mergedInto.id, ticket_number: s.mergedInto.ticketNumber } : null;
    return {
      type: TICKET_FAILURES.ticketMerged,
      message: `The ticket was merged into ${into?.ticket_number ?? 'another ticket'} and takes no more changes; change that one.`,
      details: { merged_into: into },
    };
  }
  if (expectedVersion !== null && expectedVersion !== s.version) {
    return {
      type: TICKET_FAILURES.staleVersion,
      message: `The ticket changed since you read it (you have version ${expectedVersion}, it is at ${s.version}); fetch it again.`,
      details: { expected_version: expectedVersion, current_version: s.version },
    };
  }
  if (changes.status !== undefined && changes.status !== s.status && !TRANSITIONS[s.status].includes(changes.status)) {
    const allowed = TRANSITIONS[s.status];
    return {
      type: TICKET_FAILURES.invalidTransition,
      message:
        changes.status === 'merged'
          ? `A ticket becomes merged only by merging it into another (the merge operation); allowed: ${allowed.join(', ') || 'none'}.`
          : `A ${s.status} ticket cannot become ${changes.status}; allowed: ${allowed.join(', ') || 'none'}.`,
      details: { from: s.status, to: changes.status, allowed },
    };
  }
  return null;
}

export interface FieldChange {
  field: string;
  old: unknown;
  new: unknown;
}

export interface AppliedChange {
  next: TicketSnapshot;
  /** one audit entry each (snake_case field names, as the API shows them) */
  fields: FieldChange[];
  /** event types in the order they are emitted */
  events: TicketEventType[];
  /** what the change did to the SLA clocks */
  slaTimeline: SlaTimelineEntry[];
}

const FIELD_NAMES: Record<keyof TicketChanges, string> = {
  title: 'title',
  description: 'description',
  priority: 'priority',
  status: 'status',
  category: 'category',
  tags: 'tags',
  assignedGroupId: 'assigned_group_id',
  assignedUserId: 'assigned_user_id',
};

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const seconds = (from: string, to: string) => Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000));

/**
 * Apply an accepted change at instant `at` (ISO). Returns the next snapshot with its version
 * bumped, or `fields: []` and the snapshot unchanged when nothing actually changes. `terms` are the
 * SLA policy of the new priority when the priority changes; `retargetMetResolve` lets them reach
 * a met resolve clock too (see retargetSla). `rematched`: the terms are the SLA rules' match for
 * the ticket after the change, applied whenever they differ from the clocks' (not only with a new
 * priority).
 */
export function applyChange(
  s: TicketSnapshot,
  changes: TicketChanges,
  at: string,
  terms?: SlaTerms,
  retargetMetResolve = false,
  rematched = false,
): AppliedChange {
  const fields: FieldChange[] = [];
  const next: TicketSnapshot = { ...s, tags: [...s.tags] };
  for (const key of Object.keys(FIELD_NAMES) as (keyof TicketChanges)[]) {
    const value = changes[key];
    if (value === undefined || same(value, s[key])) continue;
    fields.push({ field: FIELD_NAMES[key], old: s[key], new: value });
    (next as unknown as Record<string, unknown>)[key] = value;
  }
  if (fields.length === 0) return { next: s, fields, events: [], slaTimeline: [] };

  next.version = s.version + 1;
  const events: TicketEventType[] = ['ticket.updated'];
  if (next.status !== s.status) {
    events.push('ticket.status_changed');
    if (s.status === 'paused') {
      next.totalPausedSeconds = s.totalPausedSeconds + (s.pausedAt ? seconds(s.pausedAt, at) : 0);
      next.pausedAt = null;
      if (next.status !== 'resolved') events.push('ticket.resumed');
    }
    if (next.status === 'paused') {
      next.pausedAt = at;
      events.push('ticket.paused');
    }
    if (next.status === 'resolved') {
      next.resolvedAt = at;
      events.push('ticket.resolved');
    }
    if (s.status === 'resolved') {
      next.resolvedAt = null;
      events.push('ticket.reopened');
    }
  }
  if (next.assignedUserId !== s.assignedUserId || next.assignedGroupId !== s.assignedGroupId) {
    events.push('ticket.assigned');
    if (next.assignedUserId && !s.firstAssignedAt) next.firstAssignedAt = at;
  }
  const slaTimeline: SlaTimelineEntry[] = [];
  if (s.sla) {
    const step = slaAfterChange(s, next, s.sla, Date.parse(at), terms, retargetMetResolve, rematched);
    next.sla = step.sla;
    slaTimeline.push(...step.timeline);
  }
  return { next, fields, events, slaTimeline };
}

/**
 * The clocks follow the change: targets first (elapsed kept), then resolve, or reopen and the
 * pause statuses (each clock stops in a status its policy names for it, and runs in any other),
 * then first assignment.
 */
function slaAfterChange(
  prev: TicketSnapshot,
  next: TicketSnapshot,
  sla: TicketSla,
  at: number,
  terms: SlaTerms | undefined,
  retargetMetResolve: boolean,
  rematched: boolean,
): SlaStep {
  const steps: SlaStep[] = [];
  let current = sla;
  const apply = (step: SlaStep) => {
    steps.push(step);
    current = step.sla;
  };
  // since 'sla-rules' a change of any matched field may bring another policy's terms (`rematched`)
  const retargeted = terms !== undefined && (next.priority !== prev.priority || (rematched && termsDiffer(current, terms)));
  if (retargeted) apply(retargetSla(current, terms, at, retargetMetResolve));
  if (next.status === 'resolved') {
    if (prev.status !== 'resolved') apply(resolveSla(current, at));
  } else if (next.status !== prev.status || retargeted) {
    // (new terms may stop or free a clock in the same status)
    if (prev.status === 'resolved') apply(reopenSla(current, at));
    apply(followStatus(current, next.status, at));
  }
  if (next.assignedUserId && !prev.firstAssignedAt) apply(meet({ sla: current, timeline: [] }, 'assign', at));
  return { sla: current, timeline: steps.flatMap((x) => x.timeline) };
}
