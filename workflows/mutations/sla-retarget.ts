/**
 * An edited SLA policy applied to a ticket running on it (the SLA repair batch's request): its new
 * terms apply from now, elapsed time kept, exactly like a priority change. A ticket on another
 * policy, already on this version or later, resolved or without SLA, ignores it (no version).
 */
import type { SlaRetargetRequest } from '../definitions.js';
import { followStatus, retargetSla } from '../sla/clock.js';
import { nextVersion, notDeleted, type MutationKind } from './plan.js';

export const slaRetarget: MutationKind<SlaRetargetRequest> = {
  check: (s) => notDeleted(s),

  plan(s, req, ctx) {
    if (!s.sla || s.status === 'resolved') return null;
    // a clock started before conditional policies ran on its priority's default policy
    const current = s.sla.policy ?? { key: `default:${s.priority}`, version: 0 };
    if (current.key !== req.policyKey || current.version >= req.version) return null;
    const terms = req.terms[s.priority];
    if (!terms) return null;
    const at = Date.parse(ctx.at);
    const retargeted = retargetSla(s.sla, terms, at);
    // the new pause statuses apply to the status the ticket is in now (with unchanged statuses: no step)
    const followed = followStatus(retargeted.sla, s.status, at);
    const step = { sla: followed.sla, timeline: [...retargeted.timeline, ...followed.timeline] };
    const ref = (p: { key: string; version: number }) => ({ key: p.key, version: p.version });
    return {
      next: nextVersion(s, { sla: step.sla }),
      audit: [
        { action: 'sla_policy_applied', field: 'sla.policy', old: ref(current), new: ref({ key: req.policyKey, version: req.version }) },
      ],
      events: [],
      timeline: step.timeline,
    };
  },
};
