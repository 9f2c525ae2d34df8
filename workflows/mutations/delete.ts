/** Deleting a ticket (If-Match honoured): its last version; the workflow ends after it. */
import type { DeleteRequest } from '../definitions.js';
import { rejectChange } from '../ticket-state.js';
import { nextVersion, type MutationKind } from './plan.js';

export const deleteTicket: MutationKind<DeleteRequest> = {
  check: (s, req) => rejectChange(s, {}, req.expectedVersion),
  plan: (s) => ({
    next: nextVersion(s, { deleted: true }),
    audit: [{ action: 'deleted', field: null, old: null, new: null }],
    events: [{ type: 'ticket.deleted', changes: {} }],
    timeline: [],
  }),
};
