import { ticketCreator } from '../../../commands/tickets/create.js';
import { findVisibleTicket } from '../../../commands/tickets/find.js';
import { claimIdempotencyKey } from '../../../commands/idempotency.js';
import { presentTicket } from '../../../presenters/ticket.js';
import type { ApiRouter } from '../../api-router.js';
import type { RouteDeps } from '../../context.js';
import { commandContext } from '../common.js';
import { IdempotencyHeaders, TicketAcceptedSchema, TicketCreateSchema, TicketRefParams, TicketSchema } from './schema.js';

export function ticketRoutes(api: ApiRouter, deps: RouteDeps): void {

  api.route({
    method: 'post',
    path: '/tickets',
    summary: 'Create a ticket (starts its workflow)',
    tags: ['tickets'],
    secured: true,
    before: deps.guard,
    headers: IdempotencyHeaders,
    body: TicketCreateSchema,
    responses: {
      201: { description: 'Created', schema: TicketSchema },
      202: { description: 'Accepted; the workers are slow to answer and will write it shortly', schema: TicketAcceptedSchema },
    },
    handler: async (ctx, { body }) => {
      const key = ctx.get('Idempotency-Key');
      const claim = key
        ? await claimIdempotencyKey(deps.db, { principal: ctx.state.principal!.key, key, method: 'POST', path: '/tickets', body })
        : null;
      if (claim?.replay) {
        ctx.set('Idempotent-Replayed', 'true');
        ctx.status = claim.replay.status;
        ctx.body = claim.replay.body;
        return;
      }
      const result = await ticketCreator(commandContext(ctx, deps), body, { ticketId: claim?.resourceId });
      if (result.status === 'accepted') {
        ctx.status = 202;
        ctx.set('Location', `/api/v1/tickets/${result.id}`);
        ctx.body = { id: result.id, status: 'pending', message: 'Accepted; the ticket will be written as soon as a worker runs.' };
        return;
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
    method: 'get',
    path: '/tickets/{id}',
    summary: 'A ticket by UUID or number',
    tags: ['tickets'],
    secured: true,
    before: deps.guard,
    params: TicketRefParams,
    responses: { 200: { description: 'The ticket', schema: TicketSchema }, 404: { description: 'No such ticket (or not visible to you)' } },
    handler: async (ctx, { params }) => {
      const ticket = await findVisibleTicket(deps.db, ctx.state.principal!, params.id);
      ctx.set('ETag', `"${ticket.version}"`);
      ctx.body = presentTicket(ticket);
    },
  });
}
