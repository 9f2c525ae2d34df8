/** A PATCH: fields, status transitions, assignment and what they do to the SLA clocks. */
import type { ChangeRequest } from '../definitions.js';
import { adoptable } from '../sla/warnings.js';
import { matchFieldsDiffer, type SlaMatchInput } from '../sla/match.js';
import { applyChange, rejectChange, type TicketChanges, type TicketSnapshot } from '../ticket-state.js';
import { withNote } from './notes.js';
import type { MutationKind, Plan } from './plan.js';

export const change: MutationKind<ChangeRequest> = {
  check: (s, req) => rejectChange(s, req.changes, req.expectedVersion),

  // a new priority brings its policy's SLA terms (read when applied: policy edits apply from then on)
  reads: (s, req) => (s.sla && req.changes.priority !== undefined && req.changes.priority !== s.priority ? req.changes.priority : null),

  // since 'sla-rules': a change of a matched field (priority, group, category, tags) re-matches the
  // SLA rules; the API's match travels in the request and holds unless another change moved a field
  slaTerms(s, req) {
    if (!s.sla) return null;
    const after = matchInputAfter(s, req.changes);
    if (!matchFieldsDiffer(matchInputAfter(s, {}), after)) return null;
    if (req.slaTerms !== undefined && req.slaBasis && !matchFieldsDiffer(req.slaBasis, after)) return { terms: req.slaTerms };
    return { match: after };
  },

  plan(s, req, ctx) {
    // a resolved ticket's new priority also sets the terms its reopen runs under (older histories: not)
    const retargetMetResolve = ctx.terms !== undefined && s.sla?.resolve.phase === 'met' && ctx.patched('sla-reopen-current-terms');
    // since 'sla-rules' (asked only when a matched field moves, as the workflow did): terms of another policy apply
    const rematched = ctx.terms !== undefined && change.slaTerms!(s, req) !== null && ctx.patched('sla-rules');
    // warning levels and pause statuses of the new terms: only in runs past their patches
    const terms = ctx.terms && adoptable(ctx.terms, ctx.patched);
    const applied = applyChange(s, req.changes, ctx.at, terms, retargetMetResolve, rematched);
    if (applied.fields.length === 0) return null;
    const changes = Object.fromEntries(applied.fields.map((f) => [f.field, { old: f.old, new: f.new }]));
    const plan: Plan = {
      next: applied.next,
      audit: applied.fields.map((f) => ({ action: 'updated', field: f.field, old: f.old, new: f.new })),
      events: applied.events.map((type) => ({ type, changes })),
      timeline: applied.slaTimeline,
    };
    return req.note ? withNote(plan, req.note) : plan;
  },
};

/** The fields SLA rules match on, as they will be once `changes` apply. */
function matchInputAfter(s: TicketSnapshot, changes: TicketChanges): SlaMatchInput {
  const pick = <T>(value: T | undefined, current: T) => (value === undefined ? current : value);
  return {
    priority: pick(changes.priority, s.priority),
    groupId: pick(changes.assignedGroupId, s.assignedGroupId),
    category: pick(changes.category, s.category),
    tags: pick(changes.tags, s.tags),
  };
}
