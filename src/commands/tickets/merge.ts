/**
 * ticketMerger: merge a ticket (the source) into another (the target) through the source's
 * workflow (workflows/mutations/merge.ts). The caller must see both tickets and may write tickets.
 * Obvious refusals are answered before anything is sent (a target you cannot see or that does not
 * exist 422, the same ticket 422, a merged source or target 409); the workflows check again, so a
 * race (the target deleted or merged meanwhile) is a 409 `merge_refused` with nothing applied.
 */
import { randomUUID } from 'node:crypto';
import { actorOf } from '../../auth/principal.js';
import { AppError, conflict, forbidden, validationFailed } from '../../errors/index.js';
import { Ticket } from '../../models/index.js';
import { canWriteTickets } from '../../policies/tickets.js';
import { mergeUpdate } from '../../../workflows/definitions.js';
import type { CommandContext } from '../context.js';
import { findVisibleTicket } from './read.js';
import type { TicketMerge } from './inputs.js';
import { cleanContent } from './notes.js';
import { runTicketMutation } from './mutate.js';
import type { TicketWriteResult } from './update.js';

const mergedInto = (t: Ticket) => (t.mergedInto ? { id: t.mergedInto.id, ticket_number: t.mergedInto.ticketNumber } : null);

/** 409 `ticket_merged`: a merged ticket takes no more changes (the workflow answers the same). */
export function refuseMerged(t: Ticket): void {
  if (t.status !== 'merged') return;
  const into = mergedInto(t);
  throw conflict(
    'ticket_merged',
    `${t.ticketNumber} was merged into ${into?.ticket_number ?? 'another ticket'} and takes no more changes; change that one.`,
    { merged_into: into },
  );
}

export async function ticketMerger(
  ctx: CommandContext,
  ref: string,
  input: TicketMerge,
  expectedVersion: number | null,
  opts: { requestId?: string; noteId?: string } = {},
): Promise<TicketWriteResult> {
  const source = await findVisibleTicket(ctx, ref);
  if (!canWriteTickets(ctx.principal)) throw forbidden('This API key may not change tickets (needs tickets:write).');
  let target: Ticket;
  try {
    target = await findVisibleTicket(ctx, input.target);
  } catch (err) {
    if (err instanceof AppError && err.status === 404)
      throw validationFailed(
        [{ in: 'body', path: 'target', message: 'No ticket you may see has this id or number.' }],
        'The target ticket does not exist, was deleted, or is not visible to you.',
      );
    throw err;
  }
  if (target.id === source.id) throw validationFailed([{ in: 'body', path: 'target', message: 'A ticket cannot be merged into itself.' }]);
  // already merged into this very target (a retry whose first answer was lost, or a repeat): done,
  // nothing to apply (its workflow has ended, so it could not answer the Update any more)
  if (source.status === 'merged' && source.mergedInto?.id === target.id) return { status: 'applied', ticket: source, changed: false };
  refuseMerged(source);
  if (target.status === 'merged') {
    const into = mergedInto(target);
    throw conflict(
      'merge_refused',
      `${target.ticketNumber} is itself merged into ${into?.ticket_number ?? 'another ticket'}; merge into that one instead.`,
      { reason: 'target_merged', merged_into: into },
    );
  }
  const requestId = opts.requestId ?? randomUUID();
  const note =
    input.note === undefined ? undefined : { noteId: opts.noteId ?? randomUUID(), content: cleanContent(input.note), isInternal: true };
  const outcome = await runTicketMutation(ctx, source.id, mergeUpdate, {
    requestId: `merge-${requestId}`,
    actor: actorOf(ctx.principal),
    expectedVersion,
    target: { id: target.id, ticketNumber: target.ticketNumber },
    ...(note && { note }),
  });
  if ('pending' in outcome) return { status: 'pending', id: source.id };
  return { status: 'applied', ticket: await Ticket.query(ctx.db).findById(source.id).throwIfNotFound(), changed: outcome.changed };
}
