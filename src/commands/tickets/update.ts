/** ticketUpdater and ticketDeleter: PATCH and DELETE through the ticket's workflow. */
import { randomUUID } from 'node:crypto';
import { actorOf } from '../../auth/principal.js';
import { forbidden } from '../../errors/index.js';
import { Ticket } from '../../models/index.js';
import { authorize } from '../../policies/index.js';
import { canWriteTickets } from '../../policies/tickets.js';
import { changeUpdate, deleteUpdate } from '../../../workflows/definitions.js';
import type { TicketChanges } from '../../../workflows/ticket-state.js';
import type { CommandContext } from '../context.js';
import { checkAssignment } from './create.js';
import { findVisibleTicket } from './read.js';
import { refuseMerged } from './merge.js';
import { cleanContent } from './notes.js';
import type { TicketChange } from './inputs.js';
import { runTicketMutation } from './mutate.js';

/** `changed`: false when the ticket already was as asked (nothing written). */
export type TicketWriteResult = { status: 'applied'; ticket: Ticket; changed: boolean } | { status: 'pending'; id: string };

/**
 * `requestId` (from an Idempotency-Key) makes a retried PATCH answer instead of applying again;
 * `note` is written with the change in one version (none when the change changes nothing).
 */
export async function ticketUpdater(
  ctx: CommandContext,
  ref: string,
  patch: TicketChange,
  expectedVersion: number | null,
  opts: { requestId?: string; note?: { noteId: string; content: string; isInternal: boolean } } = {},
): Promise<TicketWriteResult> {
  const ticket = await findVisibleTicket(ctx, ref);
  if (!canWriteTickets(ctx.principal)) throw forbidden('This API key may not change tickets (needs tickets:write).');
  refuseMerged(ticket);
  if (patch.assigned_group_id !== undefined || patch.assigned_user_id !== undefined) {
    const group = patch.assigned_group_id !== undefined ? patch.assigned_group_id : ticket.assignedGroupId;
    const user = patch.assigned_user_id !== undefined ? patch.assigned_user_id : ticket.assignedUserId;
    await checkAssignment(ctx, group, user);
  }
  const changes: TicketChanges = {
    title: patch.title,
    description: patch.description,
    priority: patch.priority,
    status: patch.status,
    category: patch.category,
    tags: patch.tags,
    assignedGroupId: patch.assigned_group_id,
    assignedUserId: patch.assigned_user_id,
  };
  const outcome = await runTicketMutation(ctx, ticket.id, changeUpdate, {
    requestId: `change-${opts.requestId ?? randomUUID()}`,
    actor: actorOf(ctx.principal),
    expectedVersion,
    changes,
    // written in the same version as the change, or not at all (content sanitised here)
    ...(opts.note && { note: { ...opts.note, content: cleanContent(opts.note.content) } }),
  });
  if ('pending' in outcome) return { status: 'pending', id: ticket.id };
  return { status: 'applied', ticket: await Ticket.query(ctx.db).findById(ticket.id).throwIfNotFound(), changed: outcome.changed };
}

/** Soft delete: the row keeps `deleted_at`, the workflow completes (its timers with it). */
export async function ticketDeleter(ctx: CommandContext, ref: string, expectedVersion: number | null): Promise<'deleted' | 'pending'> {
  const ticket = await findVisibleTicket(ctx, ref);
  authorize(ctx.principal, 'tickets.delete');
  const outcome = await runTicketMutation(ctx, ticket.id, deleteUpdate, {
    requestId: `delete-${ticket.id}`, // deleting twice is one delete
    actor: actorOf(ctx.principal),
    expectedVersion,
  });
  return 'pending' in outcome ? 'pending' : 'deleted';
}
