/** Reading one ticket: visibility applied (a ticket the principal may not see is not found). */
import { notFound } from '../../errors/index.js';
import type { Ticket } from '../../models/index.js';
import { canViewTicket, seesAllTickets } from '../../policies/tickets.js';
import { groupIdsOf, liveTicketByRef } from '../../store/tickets.js';
import type { CommandContext } from '../context.js';

/** The live ticket the principal may see, by `ref` (UUID or ASM-number), or a 404. */
export async function findVisibleTicket(ctx: Pick<CommandContext, 'principal' | 'db'>, ref: string): Promise<Ticket> {
  const ticket = await liveTicketByRef(ctx.db, ref);
  if (!ticket) throw notFound('Ticket');
  const groups = seesAllTickets(ctx.principal) ? [] : await groupIdsOf(ctx.db, ctx.principal.user.id);
  if (!canViewTicket(ctx.principal, ticket, groups)) throw notFound('Ticket');
  return ticket;
}
