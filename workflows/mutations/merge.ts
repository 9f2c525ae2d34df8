/**
 * Merging a ticket (the source) into another (the target). The source's `merge` Update first has
 * the target's workflow record the source (`absorb`, an Update sent by an activity with the id
 * `absorb-<source id>`: a retry after a crash is answered by the target, never applied twice),
 * then writes its own last version: status `merged`, `mergedInto`, its SLA clocks stopped, one
 * `ticket.merged` event. Each ticket's row is written only by its own workflow; the source's
 * workflow ends after its merge (a terminal state, like a delete).
 */
import { absorbUpdateId, type AbsorbRequest, type MergeRequest } from '../definitions.js';
import { pauseSla } from '../sla/clock.js';
import { rejectChange, type MergeLink, type Rejection, type TicketSnapshot } from '../ticket-state.js';
import { TICKET_FAILURES } from '../vocabulary.js';
import { withNote } from './notes.js';
import { nextVersion, type LiveState, type MutationKind, type Plan } from './plan.js';

const refused = (message: string, reason: string, details: Record<string, unknown> = {}): Rejection => ({
  type: TICKET_FAILURES.mergeRefused,
  message,
  details: { reason, ...details },
});

const seconds = (from: string, to: string) => Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000));

/** The merge, as the source's workflow checks and plans it. */
export const merge: MutationKind<MergeRequest> = {
  check(s, req, live?: LiveState) {
    // a deleted or already merged source, a stale If-Match
    const rejection = rejectChange(s, {}, req.expectedVersion);
    if (rejection) return rejection;
    if (req.target.id === s.id) return refused('A ticket cannot be merged into itself.', 'same_ticket');
    if (live?.involved && live.involved !== req.target.id)
      return refused(`${s.ticketNumber} is being merged into another ticket right now.`, 'merge_in_progress');
    return null;
  },

  involves: (req) => req.target.id,

  before: (s, req, at) => ({
    targetId: req.target.id,
    request: {
      requestId: absorbUpdateId(s.id),
      actor: req.actor,
      ...(req.apiRequestId !== undefined && { apiRequestId: req.apiRequestId }),
      source: { id: s.id, ticketNumber: s.ticketNumber },
      at,
    },
  }),

  plan(s, req, ctx): Plan {
    const at = ctx.at;
    const link: MergeLink = { id: req.target.id, ticketNumber: req.target.ticketNumber, at };
    // the clocks stop for good: no at-risk or breach fires after the merge
    const sla = s.sla ? pauseSla(s.sla, Date.parse(at)) : undefined;
    const wasPaused = s.status === 'paused' && s.pausedAt !== null;
    const next = nextVersion(s, {
      status: 'merged',
      mergedInto: link,
      pausedAt: null,
      totalPausedSeconds: s.totalPausedSeconds + (wasPaused ? seconds(s.pausedAt!, at) : 0),
      ...(sla && { sla: sla.sla }),
    });
    const target = { id: link.id, ticket_number: link.ticketNumber };
    const plan: Plan = {
      next,
      audit: [
        { action: 'updated', field: 'status', old: s.status, new: 'merged' },
        { action: 'merged_into', field: 'merged_into', old: null, new: target },
      ],
      events: [
        {
          type: 'ticket.merged',
          changes: { status: { old: s.status, new: 'merged' }, merged_into: { old: null, new: target } },
          data: { merge: { source: { id: s.id, ticket_number: s.ticketNumber }, target } },
        },
      ],
      timeline: sla?.timeline ?? [],
    };
    return req.note ? withNote(plan, req.note) : plan;
  },
};

const linkJson = (l: MergeLink) => ({ id: l.id, ticket_number: l.ticketNumber });

/** Why `s` may not take `source` in now (the target's side of a merge), or null. */
export function rejectAbsorb(s: TicketSnapshot, req: AbsorbRequest, live?: LiveState): Rejection | null {
  if (s.mergedFrom?.some((l) => l.id === req.source.id)) return null; // already recorded: answered as no change
  if (s.deleted) return refused(`${s.ticketNumber} was deleted; a ticket cannot be merged into it.`, 'target_deleted');
  if (s.status === 'merged' || s.mergedInto)
    return refused(
      `${s.ticketNumber} is itself merged into ${s.mergedInto?.ticketNumber ?? 'another ticket'}; merge into that one instead.`,
      'target_merged',
      { merged_into: s.mergedInto ? linkJson(s.mergedInto) : null },
    );
  if (req.source.id === s.id) return refused('A ticket cannot be merged into itself.', 'same_ticket');
  if (live?.involved) return refused(`${s.ticketNumber} is being merged into another ticket right now.`, 'target_merging');
  return null;
}

/** The target records the source (its notes and attachments are listed with its own from then on). */
export const absorb: MutationKind<AbsorbRequest> = {
  check: (s, req, live) => rejectAbsorb(s, req, live),
  plan(s, req) {
    const before = s.mergedFrom ?? [];
    if (before.some((l) => l.id === req.source.id)) return null;
    const after = [...before, { id: req.source.id, ticketNumber: req.source.ticketNumber, at: req.at }];
    const source = { id: req.source.id, ticket_number: req.source.ticketNumber };
    return {
      next: nextVersion(s, { mergedFrom: after }),
      audit: [{ action: 'merged_from', field: 'merged_from', old: null, new: source }],
      events: [{ type: 'ticket.updated', changes: { merged_from: { old: before.map(linkJson), new: after.map(linkJson) } } }],
      timeline: [],
    };
  },
};
