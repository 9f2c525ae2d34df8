/**
 * ticketLister: filters, sort, pagination and search over the read model, restricted to what the
 * caller may see. Search is PostgreSQL full text (title weighted over description, ranked with
 * ts_rank_cd, websearch syntax) or, for `ASM-…`, the exact ticket number.
 */
import { raw } from 'objection';
import { forbidden } from '../../errors/index.js';
import { Ticket } from '../../models/index.js';
import { canReadTickets, visibleTo } from '../../policies/tickets.js';
import { TICKET_NUMBER_PATTERN, type TicketPriority, type TicketStatus } from '../../../workflows/vocabulary.js';
import type { CommandContext } from '../context.js';
import { visibilityOf } from './find.js';

export const TICKET_SORTS = ['created_at', 'updated_at', 'priority', 'status', 'ticket_number', 'title'] as const;

export interface TicketListQuery {
  page: number;
  page_size: number;
  status?: TicketStatus[];
  priority?: TicketPriority[];
  assigned_group_id?: string;
  assigned_user_id?: string;
  created_by_id?: string;
  category?: string;
  tag?: string;
  sla_breached?: boolean;
  search?: string;
  /** changed at or after this instant */
  updated_since?: Date;
  /** assigned to this user or to one of these groups (a queue) */
  assigned_to_any?: { user_id: string; group_ids: string[] };
  /** ticket numbers starting with this (completions) */
  number_prefix?: string;
  sort_by?: (typeof TICKET_SORTS)[number];
  sort_order?: 'asc' | 'desc';
}

// Sorting by priority means by urgency, not alphabetically.
/** Most urgent first; an index holds this exact expression (migrations/20261123000100). */
export const PRIORITY_RANK = "CASE priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END";

export async function ticketLister(
  ctx: Pick<CommandContext, 'principal' | 'db'>,
  q: TicketListQuery,
): Promise<{ results: Ticket[]; total: number }> {
  if (!canReadTickets(ctx.principal)) throw forbidden('This API key may not read tickets.');
  const query = Ticket.query(ctx.db).whereNull('deleted_at');
  const visibility = await visibilityOf(ctx.db, ctx.principal);
  if (visibility) query.where(visibleTo(visibility));
  if (q.status?.length) query.whereIn('status', q.status);
  if (q.priority?.length) query.whereIn('priority', q.priority);
  if (q.assigned_group_id) query.where('assigned_group_id', q.assigned_group_id);
  if (q.assigned_user_id) query.where('assigned_user_id', q.assigned_user_id);
  if (q.created_by_id) query.where('created_by_id', q.created_by_id);
  if (q.category) query.where('category', q.category);
  if (q.tag) query.whereRaw('tags @> ARRAY[?]::text[]', [q.tag]);
  if (q.sla_breached !== undefined) query.where('sla_breached', q.sla_breached);
  if (q.assigned_to_any) {
    const { user_id, group_ids } = q.assigned_to_any;
    query.where((w) => w.where('assigned_user_id', user_id).orWhereIn('assigned_group_id', group_ids));
  }
  if (q.updated_since) query.where('updated_at', '>=', q.updated_since);
  if (q.number_prefix) query.whereLike('ticket_number', `${q.number_prefix.toUpperCase().replace(/[\\%_]/g, '')}%`);

  let ranked = false;
  if (q.search && TICKET_NUMBER_PATTERN.test(q.search)) {
    query.where('ticket_number', q.search.toUpperCase());
  } else if (q.search) {
    query
      .select('tickets.*', raw("ts_rank_cd(search_vector, websearch_to_tsquery('english', ?)) AS search_rank", [q.search]))
      .whereRaw("search_vector @@ websearch_to_tsquery('english', ?)", [q.search]);
    ranked = true;
  }

  const order = q.sort_order ?? 'desc';
  if (q.sort_by === 'priority') query.orderByRaw(`${PRIORITY_RANK} ${order === 'desc' ? 'ASC' : 'DESC'}`);
  else if (q.sort_by) query.orderBy(q.sort_by, order);
  else if (ranked) query.orderBy('search_rank', 'desc');
  query.orderBy('created_at', q.sort_by === 'created_at' ? order : 'desc').orderBy('id');
  return query.page(q.page - 1, q.page_size);
}
