/**
 * Ticket mutations as a table: each Update the ticket workflow accepts, beside the kind that checks
 * and plans it. A new operation adds its definition (definitions.ts), its kind here, and a command.
 */
import type { UpdateDefinition } from '@temporalio/common';
import {
  absorbUpdate,
  addNoteUpdate,
  attachmentsUpdate,
  changeUpdate,
  deleteUpdate,
  editNoteUpdate,
  mergeUpdate,
  slaRetargetUpdate,
  type ChangeRequest,
  type MutationResult,
} from '../definitions.js';
import { attachments } from './attachments.js';
import { change } from './change.js';
import { deleteTicket } from './delete.js';
import { absorb, merge } from './merge.js';
import { addNote, editNote } from './notes.js';
import type { MutationKind } from './plan.js';
import { slaRetarget } from './sla-retarget.js';

export { planSlaSignals } from './sla-signals.js';
export type { CrossTicketStep, LiveState, MutationKind, Plan, PlanContext } from './plan.js';

/** What every mutation request carries: its id (for retries), its actor and the API request behind it. */
export type MutationRequestBase = Pick<ChangeRequest, 'requestId' | 'actor' | 'apiRequestId'>;

export interface TicketMutationEntry<R extends MutationRequestBase> {
  update: UpdateDefinition<MutationResult, [R]>;
  kind: MutationKind<R>;
}

const entry = <R extends MutationRequestBase>(update: UpdateDefinition<MutationResult, [R]>, kind: MutationKind<R>) => ({ update, kind });

/** Every ticket mutation Update and its kind, in the order the workflow registers them. */
export const TICKET_MUTATIONS = [
  entry(changeUpdate, change),
  entry(addNoteUpdate, addNote),
  entry(editNoteUpdate, editNote),
  entry(attachmentsUpdate, attachments),
  entry(deleteUpdate, deleteTicket),
  entry(mergeUpdate, merge),
  entry(absorbUpdate, absorb),
  entry(slaRetargetUpdate, slaRetarget),
] as const;
