/** A ticket's live SLA: the clocks and timeline straight from its workflow (a Query). */
import type { Ticket } from '../../models/index.js';
import { slaQuery, ticketWorkflowId, type SlaView } from '../../../workflows/definitions.js';
import type { CommandContext } from '../context.js';
import { findVisibleTicket } from './read.js';

const QUERY_WAIT_MS = 5_000;

export interface TicketSlaResult {
  ticket: Ticket;
  /** null for a ticket without an SLA (created before any policy existed) */
  view: SlaView | null;
  /** `workflow` normally; `database` when no worker answered in time (figures from the row, no timeline) */
  source: 'workflow' | 'database';
}

export async function ticketSlaReader(ctx: CommandContext, ref: string): Promise<TicketSlaResult> {
  const ticket = await findVisibleTicket(ctx, ref);
  try {
    const view = await ctx.temporal.withDeadline(Date.now() + QUERY_WAIT_MS, () =>
      ctx.temporal.workflow.getHandle(ticketWorkflowId(ticket.id)).query(slaQuery),
    );
    return { ticket, view, source: 'workflow' };
  } catch {
    // Queries need a running worker. The row holds the clocks as of its last version, which gives
    // the same figures; only the timeline lives in the workflow alone.
    return { ticket, view: ticket.slaState ? { sla: ticket.slaState, timeline: [], timelineDropped: 0 } : null, source: 'database' };
  }
}
