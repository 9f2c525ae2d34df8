/** ticketUpdater and ticketDeleter: PATCH and DELETE through the ticket's workflow. */
import { randomUUID } from 'node:crypto';
import { actorOf } from '../../auth/principal.js';
import { forbidden } from '../../errors/index.js';
import { Ticket } from '../../models/index.js';
import { authorize } from '../../policies/index.js';
import { canWriteTickets } from '../../policies/tickets.js';
import { changeUpdate, deleteUpdate, type ChangeRequest } from '../../../workflows/definitions.js';
import { matchFieldsDiffer } from '../../../workflows/sla/match.js';
import { matchSlaTerms } from '../sla/rules.js';
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
    ...(await slaRematch(ctx, ticket, changes)),
    // written in the same version as the change, or not at all (content sanitised here)
    ...(opts.note && { note: { ...opts.note, content: cleanContent(opts.note.content) } }),
  });
  if ('pending' in outcome) return { status: 'pending', id: ticket.id };
  return { status: 'applied', ticket: await Ticket.query(ctx.db).findById(ticket.id).throwIfNotFound(), changed: outcome.changed };
}

/**
 * A change of a field SLA rules match on carries the terms matched for the ticket after it, so the
 * workflow needs no activity to read them (it matches again if the row was behind the ticket).
 */
async function slaRematch(ctx: CommandContext, ticket: Ticket, changes: TicketChanges): Promise<Partial<ChangeRequest>> {
  if (!ticket.slaState) return {};
  const before = { priority: ticket.priority, groupId: ticket.assignedGroupId, category: ticket.category, tags: ticket.tags };
  const pick = <T>(value: T | undefined, current: T) => (value === undefined ? current : value);
  const after = {
    priority: pick(changes.priority, before.priority),
    groupId: pick(changes.assignedGroupId, before.groupId),
    category: pick(changes.category, before.category),
    tags: pick(changes.tags, before.tags),
  };
  if (!matchFieldsDiffer(before, after)) return {};
  return { slaTerms: await matchSlaTerms(ctx.db, after), slaBasis: after };
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
