/**
 * Ticket-record writes, called only from the ticket workflow's activities. Each write happens once
 * per ticket version: a retried activity finds its row (or audit entry, or event) and returns it.
 */
import type { Knex } from 'knex';
import { Attachment, AuditLog, Ticket, TicketNote } from '../models/index.js';
import { envelope } from '../events/envelope.js';
import { insertEvent } from '../events/store.js';
import { presentTicket } from '../presenters/ticket.js';
import type { Actor, AttachmentMeta, TicketCreateInput } from '../../workflows/definitions.js';
import type { TicketSnapshot } from '../../workflows/ticket-state.js';
import type { TicketEventType } from '../../workflows/vocabulary.js';
import { isBreached, signalInstant, startSla, type TicketSla } from '../../workflows/sla/clock.js';
import { loadSlaTerms } from './sla-terms.js';
import { queueDeliveries, undispatchedDeliveries, type Dispatch } from '../webhooks/deliveries.js';

/** The row is not at the version a mutation follows (a write went missing): retrying cannot help. */
export class VersionGapError extends Error {
  override name = 'VersionGapError';
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The fields a change may set, named alike in the row and the snapshot. */
function changeable(
  t: Pick<TicketSnapshot, 'title' | 'description' | 'priority' | 'status' | 'category' | 'tags' | 'assignedGroupId' | 'assignedUserId'>,
) {
  return {
    title: t.title,
    description: t.description,
    priority: t.priority,
    status: t.status,
    category: t.category,
    tags: t.tags,
    assignedGroupId: t.assignedGroupId,
    assignedUserId: t.assignedUserId,
  };
}

/** The workflow's view of a ticket row. */
export function snapshotOf(t: Ticket): TicketSnapshot {
  return {
    id: t.id,
    ticketNumber: t.ticketNumber,
    ...changeable(t),
    createdById: t.createdById,
    version: t.version,
    createdAt: t.createdAt.toISOString(),
    firstAssignedAt: iso(t.firstAssignedAt),
    resolvedAt: iso(t.resolvedAt),
    pausedAt: iso(t.pausedAt),
    totalPausedSeconds: t.totalPausedSeconds,
    deleted: t.deletedAt !== null,
    ...(t.slaState ? { sla: t.slaState } : {}),
    // only when set: snapshots of tickets never merged stay as they were before merges
    ...(t.mergedInto ? { mergedInto: t.mergedInto } : {}),
    ...(t.mergedFrom?.length ? { mergedFrom: t.mergedFrom } : {}),
  };
}

const date = (epochMs: number | null) => (epochMs === null ? null : new Date(epochMs));
const dateOf = (isoString: string | null) => (isoString ? new Date(isoString) : null);

/** The SLA columns of a ticket row: the clocks as JSON plus the instants SQL filters and reports on. */
function slaColumns(sla: TicketSla | undefined): Partial<Ticket> {
  if (!sla) return {};
  return {
    slaState: sla,
    slaBreached: isBreached(sla),
    slaAssignTargetSeconds: sla.assign.targetSeconds,
    slaAssignDueAt: date(signalInstant(sla, 'assign', 'breached')),
    slaAssignAtRiskAt: dateOf(sla.assign.atRiskAt),
    slaAssignBreachedAt: dateOf(sla.assign.breachedAt),
    slaAssignMetAt: dateOf(sla.assign.metAt),
    slaResolveTargetSeconds: sla.resolve.targetSeconds,
    slaResolveDueAt: date(signalInstant(sla, 'resolve', 'breached')),
    slaResolveAtRiskAt: dateOf(sla.resolve.atRiskAt),
    slaResolveBreachedAt: dateOf(sla.resolve.breachedAt),
    slaResolveMetAt: dateOf(sla.resolve.metAt),
  };
}

/** What a write leaves to do after its commit: start these webhook deliveries. */
export interface Written {
  deliveries: Dispatch[];
}

const dedupeKey = (ticketId: string, version: number, type: TicketEventType) => `${ticketId}:${version}:${type}`;

/**
 * Insert the ticket with its `created` audit entry and `ticket.created` event (and its webhook
 * deliveries), exactly once.
 */
export async function insertTicketRecord(db: Knex, input: TicketCreateInput): Promise<Written & { ticket: TicketSnapshot }> {
  return db.transaction(async (trx) => {
    // the terms the API read when it accepted the request; inputs from older histories carry none
    const terms = input.slaTerms !== undefined ? input.slaTerms : await loadSlaTerms(trx, input.priority);
    const createdAt = new Date(input.requestedAt);
    const sla = terms ? startSla(terms, createdAt.getTime(), input.assignedUserId !== null).sla : undefined;
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
        ...slaColumns(sla),
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
      const deliveries = await undispatchedDeliveries(trx, [dedupeKey(input.id, 1, 'ticket.created')]);
      return { ticket: snapshotOf(existing), deliveries };
    }
    const ticket = await Ticket.query(trx).findById(input.id).throwIfNotFound();
    await recordAudit(trx, ticket, input.actor, {
      action: 'created',
      newValue: { title: ticket.title, priority: ticket.priority },
      metadata: origin({ requestId: input.requestId }),
    });
    const deliveries = await recordEvent(trx, ticket, 'ticket.created', input.actor, {});
    return { ticket: snapshotOf(ticket), deliveries };
  });
}

/** One accepted mutation of version `version`, as the workflow computed it. */
export interface TicketMutation {
  ticketId: string;
  version: number;
  /** the Update that asked for it, and the API request behind it (for the logs of a failed write) */
  updateId?: string;
  requestId?: string;
  /** ISO instant of the workflow's decision */
  at: string;
  actor: Actor;
  /** the whole ticket after the change */
  ticket: TicketSnapshot;
  note?: { op: 'add' | 'edit'; id: string; content: string; isInternal: boolean };
  /** files already on disk to record, or rows to remove (their files are removed after the write) */
  attachments?: { op: 'add' | 'delete'; items: AttachmentMeta[] };
  audit: { action: string; field: string | null; old: unknown; new: unknown }[];
  /** `data` joins the envelope's data (e.g. which SLA metric breached) */
  events: { type: TicketEventType; changes: Record<string, { old: unknown; new: unknown }>; data?: Record<string, unknown> }[];
}

/**
 * Write a mutation: the row moves from version-1 to version, with its note, audit entries, events
 * and their webhook deliveries, in one transaction. A retry finds the row already at `version` and
 * writes nothing (it returns the deliveries no attempt has touched: its first run may have
 * committed and died before starting them).
 */
export async function persistTicketMutation(db: Knex, m: TicketMutation): Promise<Written> {
  return db.transaction(async (trx) => {
    const at = new Date(m.at);
    const t = m.ticket;
    const moved = await Ticket.query(trx)
      .patch({
        ...changeable(t),
        firstAssignedAt: dateOf(t.firstAssignedAt),
        resolvedAt: dateOf(t.resolvedAt),
        ...slaColumns(t.sla),
        pausedAt: dateOf(t.pausedAt),
        totalPausedSeconds: t.totalPausedSeconds,
        deletedAt: t.deleted ? at : null,
        ...(t.mergedInto && { mergedInto: t.mergedInto }),
        ...(t.mergedFrom && { mergedFrom: t.mergedFrom }),
        version: m.version,
        updatedAt: at,
      } as Partial<Ticket>)
      .where({ id: m.ticketId, version: m.version - 1 });
    if (!moved) {
      const current = await Ticket.query(trx).findById(m.ticketId);
      if (current && current.version >= m.version) {
        // already applied by an earlier attempt
        return {
          deliveries: await undispatchedDeliveries(
            trx,
            m.events.map((e) => dedupeKey(m.ticketId, m.version, e.type)),
          ),
        };
      }
      throw new VersionGapError(`ticket ${m.ticketId} is at version ${current?.version}, cannot apply version ${m.version}`);
    }
    if (m.note?.op === 'add') {
      await TicketNote.query(trx).insert({
        id: m.note.id,
        ticketId: m.ticketId,
        authorId: m.actor.userId,
        actorType: m.actor.type,
        content: m.note.content,
        isInternal: m.note.isInternal,
        createdAt: at,
        updatedAt: at,
      } as Partial<TicketNote>);
    } else if (m.note?.op === 'edit') {
      await TicketNote.query(trx)
        .patch({ content: m.note.content, editedAt: at, updatedAt: at } as Partial<TicketNote>)
        .where({ id: m.note.id, ticketId: m.ticketId });
    }
    if (m.attachments?.op === 'add') {
      await Attachment.query(trx).insert(
        m.attachments.items.map((a) => ({
          id: a.id,
          ticketId: m.ticketId,
          noteId: a.noteId,
          uploadedById: m.actor.userId,
          originalFilename: a.originalFilename,
          storedName: a.storedName,
          contentType: a.contentType,
          sizeBytes: a.sizeBytes,
          sha256: a.sha256,
          createdAt: at,
        })) as Partial<Attachment>[],
      );
    } else if (m.attachments?.op === 'delete') {
      await Attachment.query(trx)
        .delete()
        .whereIn(
          'id',
          m.attachments.items.map((a) => a.id),
        )
        .where({ ticketId: m.ticketId });
    }
    const ticket = await Ticket.query(trx).findById(m.ticketId).throwIfNotFound();
    for (const entry of m.audit) {
      await recordAudit(trx, ticket, m.actor, {
        action: entry.action,
        field: entry.field ?? undefined,
        oldValue: entry.old,
        newValue: entry.new,
        metadata: origin(m),
      });
    }
    const note = m.note ? { id: m.note.id, content: m.note.content, is_internal: m.note.isInternal } : undefined;
    const deliveries: Dispatch[] = [];
    for (const event of m.events)
      deliveries.push(
        ...(await recordEvent(trx, ticket, event.type, m.actor, event.changes, { ...(note ? { note } : {}), ...event.data })),
      );
    return { deliveries };
  });
}

/**
 * An audit entry's `metadata`: the API request (X-Request-Id) and the Update behind the change, so
 * an audit row joins to the request's log lines and the workflow's history. Empty for the SLA timers.
 */
function origin(m: { requestId?: string; updateId?: string }): Record<string, string> {
  return { ...(m.requestId ? { request_id: m.requestId } : {}), ...(m.updateId ? { update_id: m.updateId } : {}) };
}

async function recordAudit(
  trx: Knex.Transaction,
  ticket: Ticket,
  actor: Actor,
  entry: { action: string; field?: string; oldValue?: unknown; newValue?: unknown; metadata?: Record<string, string> },
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
    metadata: entry.metadata ?? {},
    createdAt: ticket.updatedAt,
  } as Partial<AuditLog>);
}

async function recordEvent(
  trx: Knex.Transaction,
  ticket: Ticket,
  type: TicketEventType,
  actor: Actor,
  changes: Record<string, { old: unknown; new: unknown }>,
  extra: Record<string, unknown> = {},
): Promise<Dispatch[]> {
  const env = envelope(
    type,
    {
      ticket: presentTicket(ticket, ticket.updatedAt),
      changes,
      actor: { type: actor.type, user_id: actor.userId, api_key_id: actor.apiKeyId ?? null },
      ...extra,
    },
    ticket.updatedAt,
  );
  await insertEvent(trx, {
    id: env.id,
    type,
    ticketId: ticket.id,
    payload: env,
    dedupeKey: dedupeKey(ticket.id, ticket.version, type),
    createdAt: ticket.updatedAt,
  });
  return queueDeliveries(trx, env);
}
