import {
  calendarCreator,
  calendarDeleter,
  calendarFinder,
  calendarLister,
  calendarWriter,
  slaPolicyLister,
  slaPolicyWriter,
} from '../../../commands/sla/policies.js';
import { defaultPolicyRepairStarter } from '../../../commands/sla/repairs.js';
import { ticketSlaReader } from '../../../commands/tickets/sla.js';
import { ticketBreachLister } from '../../../commands/sla/preview-commands.js';
import { ApplyToOpenQuery } from '../sla-rules/schema.js';
import { presentCalendar, presentSlaPolicy, presentTicketSla } from '../../../presenters/sla.js';
import { notFound } from '../../../errors/index.js';
import type { ApiRouter } from '../../api-router.js';
import type { RouteDeps } from '../../context.js';
import { commandContext, IdParams } from '../common.js';
import { TicketRefParams } from '../tickets/schema.js';
import { CalendarSchema, CalendarWriteSchema, SlaPolicyParams, SlaPolicyPutSchema, SlaPolicySchema, TicketSlaSchema } from './schema.js';
import { z } from 'zod';

export function slaRoutes(api: ApiRouter, deps: RouteDeps): void {
  const common = { tags: ['sla'], secured: true, before: deps.guard };

  api.route({
    ...common,
    method: 'get',
    path: '/sla-policies',
    operationId: 'listSlaPolicies',
    summary: 'The SLA policy of each priority (targets in seconds)',
    responses: { 200: { description: 'All policies, most urgent first', schema: z.array(SlaPolicySchema) } },
    handler: async (ctx) => {
      ctx.body = (await slaPolicyLister(commandContext(ctx, deps))).map(presentSlaPolicy);
    },
  });

  api.route({
    ...common,
    method: 'put',
    path: '/sla-policies/{priority}',
    operationId: 'putSlaPolicy',
    summary: "Set a priority's SLA policy (admin); applies to tickets created or re-prioritised from now on",
    params: SlaPolicyParams,
    query: ApplyToOpenQuery,
    body: SlaPolicyPutSchema,
    responses: { 200: { description: 'The policy', schema: SlaPolicySchema }, 403: { description: 'Admins only' } },
    handler: async (ctx, { params, query, body }) => {
      const c = commandContext(ctx, deps);
      const policy = await slaPolicyWriter(c, params.priority, body);
      // opt-in: the open tickets on this policy take the new version too (a durable batch)
      const repair = query.apply_to_open ? await defaultPolicyRepairStarter(c, params.priority) : undefined;
      ctx.body = { ...presentSlaPolicy(policy), ...(repair && { sla_repair_id: repair.id }) };
    },
  });

  api.route({
    ...common,
    method: 'get',
    path: '/business-calendars',
    operationId: 'listBusinessCalendars',
    summary: 'Business calendars (time zone, weekly hours, holidays)',
    responses: { 200: { description: 'All calendars', schema: z.array(CalendarSchema) } },
    handler: async (ctx) => {
      ctx.body = (await calendarLister(commandContext(ctx, deps))).map(presentCalendar);
    },
  });

  api.route({
    ...common,
    method: 'post',
    path: '/business-calendars',
    operationId: 'createBusinessCalendar',
    summary: 'Create a business calendar (admin)',
    body: CalendarWriteSchema,
    responses: {
      201: { description: 'Created', schema: CalendarSchema, headers: ['Location'] },
      403: { description: 'Admins only' },
      409: { description: 'Name taken' },
    },
    handler: async (ctx, { body }) => {
      const calendar = await calendarCreator(commandContext(ctx, deps), body);
      ctx.status = 201;
      ctx.set('Location', `/api/v1/business-calendars/${calendar.id}`);
      ctx.body = presentCalendar(calendar);
    },
  });

  api.route({
    ...common,
    method: 'get',
    path: '/business-calendars/{id}',
    operationId: 'getBusinessCalendar',
    summary: 'A business calendar',
    params: IdParams,
    responses: { 200: { description: 'The calendar', schema: CalendarSchema }, 404: { description: 'No such calendar' } },
    handler: async (ctx, { params }) => {
      ctx.body = presentCalendar(await calendarFinder(commandContext(ctx, deps), params.id));
    },
  });

  api.route({
    ...common,
    method: 'put',
    path: '/business-calendars/{id}',
    operationId: 'replaceBusinessCalendar',
    summary: 'Replace a business calendar (admin); running tickets keep the hours they started with',
    params: IdParams,
    body: CalendarWriteSchema,
    responses: {
      200: { description: 'The calendar', schema: CalendarSchema },
      403: { description: 'Admins only' },
      404: { description: 'No such calendar' },
      409: { description: 'Name taken' },
    },
    handler: async (ctx, { params, body }) => {
      ctx.body = presentCalendar(await calendarWriter(commandContext(ctx, deps), params.id, body));
    },
  });

  api.route({
    ...common,
    method: 'delete',
    path: '/business-calendars/{id}',
    operationId: 'deleteBusinessCalendar',
    summary: 'Delete a business calendar no policy uses (admin)',
    params: IdParams,
    responses: {
      204: { description: 'Deleted' },
      403: { description: 'Admins only' },
      404: { description: 'No such calendar' },
      409: { description: 'A policy still uses it' },
    },
    handler: async (ctx, { params }) => {
      await calendarDeleter(commandContext(ctx, deps), params.id);
      ctx.status = 204;
    },
  });

  api.route({
    ...common,
    tags: ['tickets', 'sla'],
    method: 'get',
    path: '/tickets/{id}/sla',
    operationId: 'getTicketSla',
    summary: "A ticket's live SLA: figures per metric and the timeline that explains them",
    params: TicketRefParams,
    responses: { 200: { description: 'The live SLA', schema: TicketSlaSchema }, 404: { description: 'No such ticket, or it has no SLA' } },
    handler: async (ctx, { params }) => {
      const { ticket, view, source } = await ticketSlaReader(commandContext(ctx, deps), params.id);
      if (!view) throw notFound('SLA of this ticket');
      ctx.body = presentTicketSla(ticket, view, source, new Date(), await ticketBreachLister({ db: deps.db }, ticket.id));
    },
  });
}
