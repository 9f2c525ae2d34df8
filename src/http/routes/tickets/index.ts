import { auditLister } from '../../../commands/tickets/audit.js';
import { ticketCreator } from '../../../commands/tickets/create.js';
import { findVisibleTicket } from '../../../commands/tickets/read.js';
import { ticketLister } from '../../../commands/tickets/list.js';
import { noteAdder, noteEditor, noteLister } from '../../../commands/tickets/notes.js';
import { ticketDeleter, ticketUpdater } from '../../../commands/tickets/update.js';
import { ticketMerger } from '../../../commands/tickets/merge.js';
import { claimIdempotencyKey } from '../../../store/idempotency.js';
import { badRequest } from '../../../errors/index.js';
import { presentAuditEntry } from '../../../presenters/audit.js';
import { presentNote } from '../../../presenters/note.js';
import { presentTicket } from '../../../presenters/ticket.js';
import type { ApiRouter, Ctx } from '../../api-router.js';
import type { RouteDeps } from '../../context.js';
import { CursorPaginated, PaginationQuery, Paginated, pageOf } from '../../pagination.js';
import { commandContext } from '../common.js';
import {
  AuditEntrySchema,
  IdempotencyHeaders,
  IfMatchHeaders,
  NoteCreateSchema,
  NoteParams,
  NoteSchema,
  NoteUpdateSchema,
  TicketAcceptedSchema,
  TicketCreateSchema,
  TicketListQuerySchema,
  TicketMergeSchema,
  TicketPatchSchema,
  TicketRefParams,
  TicketSchema,
} from './schema.js';

/** `"3"`, `W/"3"` or `3` → 3; absent or `*` → null. */
function ifMatch(ctx: Ctx): number | null {
  const value = ctx.get('If-Match').trim();
  if (!value || value === '*') return null;
  const match = /^(?:W\/)?"?(\d{1,9})"?$/.exec(value);
  if (!match) throw badRequest('If-Match must be the ETag you read, like "3".');
  return Number(match[1]);
}

function accepted(ctx: Ctx, id: string, what: string) {
  ctx.status = 202;
  ctx.body = { id, status: 'pending', message: `Accepted; the ${what} will be applied as soon as a worker runs.` };
}

/** Claims the request's Idempotency-Key (null without one); a completed claim carries its response. */
async function idempotency(ctx: Ctx, deps: RouteDeps, path: string, body: unknown) {
  const key = ctx.get('Idempotency-Key');
  if (!key) return null;
  if (key.length > 255) throw badRequest('Idempotency-Key must be at most 255 characters.');
  return claimIdempotencyKey(deps.db, {
    principal: ctx.state.principal!.key,
    key,
    method: ctx.method,
    path,
    body: { body, ifMatch: ctx.get('If-Match') },
  });
}

/** Answers a retried request with its stored response; true if it did. */
function replayed(ctx: Ctx, claim: Awaited<ReturnType<typeof idempotency>>): boolean {
  if (!claim?.replay) return false;
  ctx.set('Idempotent-Replayed', 'true');
  ctx.status = claim.replay.status;
  ctx.body = claim.replay.body;
  return true;
}

export function ticketRoutes(api: ApiRouter, deps: RouteDeps): void {
  const common = { tags: ['tickets'], secured: true, before: deps.guard };

  api.route({
    ...common,
    method: 'post',
    path: '/tickets',
    operationId: 'createTicket',
    summary: 'Create a ticket (starts its workflow)',
    headers: IdempotencyHeaders,
    body: TicketCreateSchema,
    responses: {
      201: { description: 'Created', schema: TicketSchema, headers: ['ETag', 'Location', 'Idempotent-Replayed'] },
      202: {
        description: 'Accepted; the workers are slow to answer and will write it shortly',
        schema: TicketAcceptedSchema,
        headers: ['Location', 'Idempotent-Replayed'],
      },
      403: { description: 'This API key may not write tickets' },
      422: {
        description: 'Validation failed, a referenced group or user does not exist, or the Idempotency-Key was used with another body',
      },
    },
    handler: async (ctx, { body }) => {
      const claim = await idempotency(ctx, deps, '/tickets', body);
      if (replayed(ctx, claim)) return;
      const result = await ticketCreator(commandContext(ctx, deps), body, { ticketId: claim?.resourceId });
      if (result.status === 'accepted') {
        ctx.set('Location', `/api/v1/tickets/${result.id}`);
        return accepted(ctx, result.id, 'ticket');
      }
      const json = presentTicket(result.ticket);
      await claim?.complete(201, json);
      ctx.status = 201;
      ctx.set('Location', `/api/v1/tickets/${json.id}`);
      ctx.set('ETag', `"${json.version}"`);
      ctx.body = json;
    },
  });

  api.route({
    ...common,
    method: 'get',
    path: '/tickets',
    operationId: 'listTickets',
    summary: 'List tickets you may see: filters, full-text search, sort, pagination',
    query: TicketListQuerySchema,
    responses: {
      200: {
        description: 'A page of tickets',
        schema: CursorPaginated(TicketSchema, 'TicketPage'),
      },
    },
    handler: async (ctx, { query }) => {
      const { results, total, page, nextCursor, totalIsEstimate } = await ticketLister(commandContext(ctx, deps), query);
      const now = new Date();
      ctx.body = {
        ...pageOf(
          results.map((t) => presentTicket(t, now)),
          total,
          page,
          query.page_size,
        ),
        next_cursor: nextCursor,
        total_is_estimate: totalIsEstimate,
      };
    },
  });

  api.route({
    ...common,
    method: 'get',
    path: '/tickets/{id}',
    operationId: 'getTicket',
    summary: 'A ticket by UUID or number',
    params: TicketRefParams,
    responses: {
      200: { description: 'The ticket', schema: TicketSchema, headers: ['ETag'] },
      404: { description: 'No such ticket (or not visible to you)' },
    },
    handler: async (ctx, { params }) => {
      const ticket = await findVisibleTicket({ db: deps.db, principal: ctx.state.principal! }, params.id);
      ctx.set('ETag', `"${ticket.version}"`);
      ctx.body = presentTicket(ticket);
    },
  });

  api.route({
    ...common,
    method: 'patch',
    path: '/tickets/{id}',
    operationId: 'updateTicket',
    summary: 'Change fields, status (SPEC §4 transitions), priority, assignment, category, tags',
    params: TicketRefParams,
    headers: IfMatchHeaders.merge(IdempotencyHeaders),
    body: TicketPatchSchema,
    responses: {
      200: { description: 'Updated', schema: TicketSchema, headers: ['ETag', 'Idempotent-Replayed'] },
      202: { description: 'Accepted; will be applied shortly', schema: TicketAcceptedSchema, headers: ['Idempotent-Replayed'] },
      403: { description: 'This API key may not write tickets' },
      404: { description: 'No such ticket' },
      409: { description: 'invalid_transition: details name the allowed statuses' },
      412: { description: 'If-Match is stale' },
      503: { description: 'change_not_confirmed: retry with the same Idempotency-Key' },
    },
    handler: async (ctx, { params, body }) => {
      const claim = await idempotency(ctx, deps, `/tickets/${params.id}`, body);
      if (replayed(ctx, claim)) return;
      const result = await ticketUpdater(commandContext(ctx, deps), params.id, body, ifMatch(ctx), { requestId: claim?.resourceId });
      if (result.status === 'pending') return accepted(ctx, result.id, 'change');
      const json = presentTicket(result.ticket);
      await claim?.complete(200, json);
      ctx.set('ETag', `"${json.version}"`);
      ctx.body = json;
    },
  });

  api.route({
    ...common,
    method: 'post',
    path: '/tickets/{id}/merge',
    operationId: 'mergeTicket',
    summary: 'Merge this ticket into a target: it becomes merged (terminal, clocks stopped); the target lists its notes and files',
    params: TicketRefParams,
    headers: IfMatchHeaders.merge(IdempotencyHeaders),
    body: TicketMergeSchema,
    responses: {
      200: { description: 'Merged: the merged ticket, with merged_into', schema: TicketSchema, headers: ['ETag', 'Idempotent-Replayed'] },
      202: { description: 'Accepted; will be applied shortly', schema: TicketAcceptedSchema, headers: ['Idempotent-Replayed'] },
      403: { description: 'This API key may not write tickets' },
      404: { description: 'No such ticket' },
      409: {
        description:
          'ticket_merged: this ticket is already merged; merge_refused: the target is merged, deleted or being merged meanwhile (details.reason)',
      },
      412: { description: 'If-Match is stale' },
      422: { description: 'Validation failed: the target does not exist, is not visible to you, or is this ticket' },
      503: { description: 'change_not_confirmed: retry with the same Idempotency-Key' },
    },
    handler: async (ctx, { params, body }) => {
      const claim = await idempotency(ctx, deps, `/tickets/${params.id}/merge`, body);
      if (replayed(ctx, claim)) return;
      const result = await ticketMerger(commandContext(ctx, deps), params.id, body, ifMatch(ctx), { requestId: claim?.resourceId });
      if (result.status === 'pending') return accepted(ctx, result.id, 'merge');
      const json = presentTicket(result.ticket);
      await claim?.complete(200, json);
      ctx.set('ETag', `"${json.version}"`);
      ctx.body = json;
    },
  });

  api.route({
    ...common,
    method: 'delete',
    path: '/tickets/{id}',
    operationId: 'deleteTicket',
    summary: 'Soft-delete a ticket (admin, manager): its workflow completes',
    params: TicketRefParams,
    headers: IfMatchHeaders,
    responses: {
      204: { description: 'Deleted' },
      202: { description: 'Accepted', schema: TicketAcceptedSchema },
      403: { description: 'Admins and managers only' },
      404: { description: 'No such ticket' },
      412: { description: 'If-Match is stale' },
    },
    handler: async (ctx, { params }) => {
      const outcome = await ticketDeleter(commandContext(ctx, deps), params.id, ifMatch(ctx));
      if (outcome === 'pending') return accepted(ctx, params.id, 'deletion');
      ctx.status = 204;
    },
  });

  api.route({
    ...common,
    method: 'post',
    path: '/tickets/{id}/notes',
    operationId: 'addTicketNote',
    summary: 'Add a note (internal or public; HTML is sanitised)',
    params: TicketRefParams,
    headers: IdempotencyHeaders,
    body: NoteCreateSchema,
    responses: {
      201: { description: 'Added', schema: NoteSchema, headers: ['Idempotent-Replayed'] },
      202: { description: 'Accepted', schema: TicketAcceptedSchema, headers: ['Idempotent-Replayed'] },
      403: { description: 'This API key may not write tickets' },
      404: { description: 'No such ticket' },
    },
    handler: async (ctx, { params, body }) => {
      const claim = await idempotency(ctx, deps, `/tickets/${params.id}/notes`, body);
      if (replayed(ctx, claim)) return;
      const result = await noteAdder(commandContext(ctx, deps), params.id, body, { noteId: claim?.resourceId });
      if (result.status === 'pending') return accepted(ctx, result.id, 'note');
      const json = presentNote(result.note);
      await claim?.complete(201, json);
      ctx.status = 201;
      ctx.body = json;
    },
  });

  api.route({
    ...common,
    method: 'get',
    path: '/tickets/{id}/notes',
    operationId: 'listTicketNotes',
    summary: "A ticket's notes, oldest first",
    params: TicketRefParams,
    query: PaginationQuery,
    responses: {
      200: { description: 'A page of notes', schema: Paginated(NoteSchema, 'NotePage') },
      404: { description: 'No such ticket' },
    },
    handler: async (ctx, { params, query }) => {
      const { results, total } = await noteLister(commandContext(ctx, deps), params.id, query);
      ctx.body = pageOf(results.map(presentNote), total, query.page, query.page_size);
    },
  });

  api.route({
    ...common,
    method: 'patch',
    path: '/tickets/{id}/notes/{note_id}',
    operationId: 'editTicketNote',
    summary: 'Edit a note (its author, or an admin or manager); the edit time is kept',
    params: NoteParams,
    headers: IdempotencyHeaders,
    body: NoteUpdateSchema,
    responses: {
      200: { description: 'Edited', schema: NoteSchema, headers: ['Idempotent-Replayed'] },
      202: { description: 'Accepted', schema: TicketAcceptedSchema, headers: ['Idempotent-Replayed'] },
      403: { description: 'Not your note, or this API key may not write tickets' },
      404: { description: 'No such ticket or note' },
    },
    handler: async (ctx, { params, body }) => {
      const claim = await idempotency(ctx, deps, `/tickets/${params.id}/notes/${params.note_id}`, body);
      if (replayed(ctx, claim)) return;
      const result = await noteEditor(commandContext(ctx, deps), params.id, params.note_id, body, { requestId: claim?.resourceId });
      if (result.status === 'pending') return accepted(ctx, result.id, 'edit');
      const json = presentNote(result.note);
      await claim?.complete(200, json);
      ctx.body = json;
    },
  });

  api.route({
    ...common,
    method: 'get',
    path: '/tickets/{id}/audit-log',
    operationId: 'getTicketAuditLog',
    summary: "A ticket's audit trail: every change with actor, old and new values",
    params: TicketRefParams,
    query: PaginationQuery.extend({ page_size: PaginationQuery.shape.page_size.default(100) }),
    responses: {
      200: { description: 'A page of audit entries', schema: Paginated(AuditEntrySchema, 'AuditPage') },
      404: { description: 'No such ticket' },
    },
    handler: async (ctx, { params, query }) => {
      const { results, total } = await auditLister(commandContext(ctx, deps), params.id, query);
      ctx.body = pageOf(results.map(presentAuditEntry), total, query.page, query.page_size);
    },
  });
}
