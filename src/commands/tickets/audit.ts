import { AuditLog } from '../../models/index.js';
import type { CommandContext } from '../context.js';
import { findVisibleTicket } from './read.js';

/** A ticket's audit trail, oldest first. */
export async function auditLister(ctx: CommandContext, ref: string, q: { page: number; page_size: number }) {
  const ticket = await findVisibleTicket(ctx, ref);
  return AuditLog.query(ctx.db)
    .where({ ticketId: ticket.id })
    .orderBy([{ column: 'created_at' }, { column: 'ticket_version' }, { column: 'field_changed' }])
    .page(q.page - 1, q.page_size);
}
