/** A PATCH: fields, status transitions, assignment and what they do to the SLA clocks. */
import type { ChangeRequest } from '../definitions.js';
import { adoptable } from '../sla/warnings.js';
import { applyChange, rejectChange } from '../ticket-state.js';
import { withNote } from './notes.js';
import type { MutationKind, Plan } from './plan.js';

export const change: MutationKind<ChangeRequest> = {
  check: (s, req) => rejectChange(s, req.changes, req.expectedVersion),

  // a new priority brings its policy's SLA terms (read when applied: policy edits apply from then on)
  reads: (s, req) => (s.sla && req.changes.priority !== undefined && req.changes.priority !== s.priority ? req.changes.priority : null),

  plan(s, req, ctx) {
    // a resolved ticket's new priority also sets the terms its reopen runs under (older histories: not)
    const retargetMetResolve = ctx.terms !== undefined && s.sla?.resolve.phase === 'met' && ctx.patched('sla-reopen-current-terms');
    // warning levels and pause statuses of the new terms: only in runs past their patches
    const terms = ctx.terms && adoptable(ctx.terms, ctx.patched);
    const applied = applyChange(s, req.changes, ctx.at, terms, retargetMetResolve);
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
