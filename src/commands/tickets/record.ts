/**
 * Ticket-record writes, called only from the ticket workflow's activities. Each write happens once
 * per ticket version: a retried activity finds its row (or audit entry, or event) and returns it.
 */
import type { Knex } from 'knex';
import { AuditLog, Event, SlaPolicy, Ticket } from '../../models/index.js';
import { envelope } from '../../events/envelope.js';
import { presentTicket } from '../../presenters/ticket.js';
import type { Actor, TicketCreateInput, TicketState } from '../../../workflows/definitions.js';

/** The input names a group or user that does not exist (any more): retrying cannot help. */
export class InvalidReferenceError extends Error {
  override name = 'InvalidReferenceError';
}

export function stateOf(t: Ticket): TicketState {
  return {
    id: t.id,
    ticketNumber: t.ticketNumber,
    status: t.status,
    priority: t.priority,
    assignedGroupId: t.assignedGroupId,
    assignedUserId: t.assignedUserId,
    version: t.version,
  };
}

/** Insert the ticket with its `created` audit entry and `ticket.created` event, exactly once. */
export async function insertTicketRecord(db: Knex, input: TicketCreateInput): Promise<TicketState> {
  try {
    return await db.transaction(async (trx) => {
      const policy = await SlaPolicy.query(trx).findById(input.priority);
      const createdAt = new Date(input.requestedAt);
      const inserted = await Ticket.query(trx)
        .insert({
          id: input.id,
          title: input.title,
          description: input.description,
          priority: input.priority,
          status: 'open',
          category: input.category,
          tags: input.tags,
          assignedGroupId: input.assignedGroupId,
          assignedUserId: input.assignedUserId,
          createdById: input.actor.userId,
          createdVia: input.createdVia,
          version: 1,
          firstAssignedAt: input.assignedUserId ? createdAt : null,
          slaAssignTargetSeconds: policy?.assignTargetSeconds ?? null,
          slaResolveTargetSeconds: policy?.resolveTargetSeconds ?? null,
          slaAssignMetAt: input.assignedUserId ? createdAt : null,
          createdAt,
          updatedAt: createdAt,
        } as Partial<Ticket>)
        .onConflict('id')
        .ignore()
        .returning('*');
      // With ON CONFLICT DO NOTHING, a retry returns no row: the first attempt already wrote it all.
      const row = (Array.isArray(inserted) ? inserted[0] : inserted) as Ticket | undefined;
      if (!row?.ticketNumber) {
        const existing = await Ticket.query(trx).findById(input.id);
        if (!existing) throw new Error(`ticket ${input.id} vanished during its creation`);
        return stateOf(existing);
      }
      const ticket = await Ticket.query(trx).findById(input.id).throwIfNotFound();
      await recordAudit(trx, ticket, input.actor, { action: 'created', newValue: { title: ticket.title, priority: ticket.priority } });
      await recordEvent(trx, ticket, 'ticket.created', input.actor, {});
      return stateOf(ticket);
    });
  } catch (err) {
    if ((err as { code?: string }).code === '23503') {
      throw new InvalidReferenceError('The assigned group or user does not exist.');
    }
    throw err;
  }
}

async function recordAudit(
  trx: Knex.Transaction,
  ticket: Ticket,
  actor: Actor,
  entry: { action: string; field?: string; oldValue?: unknown; newValue?: unknown },
): Promise<void> {
  await AuditLog.query(trx).insert({
    ticketId: ticket.id,
    ticketVersion: ticket.version,
    actorType: actor.type,
    actorId: actor.userId,
    apiKeyId: actor.apiKeyId ?? null,
    action: entry.action,
    fieldChanged: entry.field ?? null,
    oldValue: entry.oldValue === undefined ? null : JSON.stringify(entry.oldValue),
    newValue: entry.newValue === undefined ? null : JSON.stringify(entry.newValue),
    createdAt: ticket.updatedAt,
  } as Partial<AuditLog>);
}

async function recordEvent(
  trx: Knex.Transaction,
  ticket: Ticket,
  type: string,
  actor: Actor,
  changes: Record<string, { old: unknown; new: unknown }>,
): Promise<void> {
  const env = envelope(
    type,
    { ticket: presentTicket(ticket, ticket.updatedAt), changes, actor: { type: actor.type, user_id: actor.userId, api_key_id: actor.apiKeyId ?? null } },
    ticket.updatedAt,
  );
  await Event.query(trx).insert({
    id: env.id,
    type,
    ticketId: ticket.id,
    payload: env,
    dedupeKey: `${ticket.id}:${ticket.version}:${type}`,
    createdAt: ticket.updatedAt,
  } as Partial<Event>);
}
