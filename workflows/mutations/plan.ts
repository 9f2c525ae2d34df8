/**
 * What every ticket mutation kind is: a synchronous check (the Update's validator and its handler
 * both run it) and a pure plan that turns the snapshot and the request into the next snapshot and
 * the audit entries and events to write with it. Deterministic and free of I/O: the workflow and
 * the unit tests both import it.
 */
import type { Activities } from '../../activities/index.js';
import type { AbsorbRequest } from '../definitions.js';
import type { SlaTerms, SlaTimelineEntry } from '../sla/clock.js';
import type { SlaMatchInput } from '../sla/match.js';
import type { TicketPriority } from '../vocabulary.js';
import { rejectChange, type Rejection, type TicketSnapshot } from '../ticket-state.js';

/** The write's contract: what one version of a ticket records besides the row. */
type Mutation = Parameters<Activities['persistTicketMutation']>[0];
export type AuditEntry = Mutation['audit'][number];
export type TicketEventRecord = Mutation['events'][number];

/** One version of the ticket, planned: the row after it and what is recorded with it. */
export interface Plan extends Pick<Mutation, 'audit' | 'events' | 'note' | 'attachments'> {
  next: TicketSnapshot;
  /** what the mutation did to the SLA clocks (kept once the write succeeded) */
  timeline: SlaTimelineEntry[];
}

/** What a plan may consult besides the snapshot and the request. */
export interface PlanContext {
  /** ISO instant of the decision */
  at: string;
  /** the SLA terms `reads` or `slaTerms` asked for, when they asked (undefined: none or no policy) */
  terms?: SlaTerms;
  /** the workflow's `patched` (tests pass a constant): behaviour that changed for new runs only */
  patched(id: string): boolean;
}

/** What the workflow knows beside the snapshot that a check may need. */
export interface LiveState {
  /** the other ticket an accepted, unfinished mutation of this one involves (a merge's target), or null */
  involved: string | null;
}

/** An absorb to run on another ticket's workflow before planning (a merge's target; see merge.ts). */
export interface CrossTicketStep {
  targetId: string;
  request: AbsorbRequest;
}

/** One kind of ticket mutation, as the workflow registers it for its Update. */
export interface MutationKind<R> {
  /** why `req` may not be applied to `s` now, or null: the validator and the handler share it */
  check(s: TicketSnapshot, req: R, live?: LiveState): Rejection | null;
  /**
   * The other ticket this mutation involves: from its acceptance until it ends, this ticket takes
   * no absorb from another ticket (LiveState.involved), so two tickets merging into each other are
   * refused instead of waiting on each other for ever.
   */
  involves?(req: R): string;
  /**
   * A change another ticket's workflow must have made before this one is planned (one activity,
   * idempotent by its Update id, so a retry after a crash is answered, not applied twice), or null.
   */
  before?(s: TicketSnapshot, req: R, at: string): CrossTicketStep | null;
  /** the priority whose SLA terms the plan needs read first (one activity), or null */
  reads?(s: TicketSnapshot, req: R): TicketPriority | null;
  /**
   * Since 'sla-rules' (in place of `reads`): the SLA terms the plan needs — carried by the request,
   * or to match (one activity) when the request's basis no longer holds — or null when none.
   */
  slaTerms?(s: TicketSnapshot, req: R): { terms: SlaTerms | null } | { match: SlaMatchInput } | null;
  /** the version to write, or null when the request changes nothing; `check` has passed */
  plan(s: TicketSnapshot, req: R, ctx: PlanContext): Plan | null;
}

/** A deleted ticket takes no more changes of any kind. */
export const notDeleted = (s: TicketSnapshot): Rejection | null => rejectChange(s, {}, null);

/** `s` one version on, with `changes`. */
export const nextVersion = (s: TicketSnapshot, changes: Partial<TicketSnapshot> = {}): TicketSnapshot => ({
  ...s,
  version: s.version + 1,
  ...changes,
});
