import { z } from 'zod';
import { slaRepairFinder, rulePolicyRepairStarter } from '../../../commands/sla/repairs.js';
import {
  slaRuleCreator,
  slaRuleDeleter,
  slaRuleFinder,
  slaRuleLister,
  slaRuleReorderer,
  slaRuleWriter,
} from '../../../commands/sla/rules.js';
import { presentSlaRepair, presentSlaRule } from '../../../presenters/sla-rules.js';
import type { ApiRouter } from '../../api-router.js';
import type { RouteDeps } from '../../context.js';
import { commandContext, IdParams } from '../common.js';
import { ApplyToOpenQuery, SlaRepairSchema, SlaRuleOrderSchema, SlaRuleSchema, SlaRuleWriteSchema } from './schema.js';

/** Conditional SLA policies (issue 21 item 2) and the batches applying an edit to open tickets (item 5). */
export function slaRuleRoutes(api: ApiRouter, deps: RouteDeps): void {
  const common = { tags: ['sla'], secured: true, before: deps.guard };

  api.route({
    ...common,
    method: 'get',
    path: '/sla-rules',
    operationId: 'listSlaRules',
    summary: 'SLA rules in the order they are tried (first match wins; no match: the priority’s SLA policy)',
    responses: { 200: { description: 'All rules, by position', schema: z.array(SlaRuleSchema) } },
    handler: async (ctx) => {
      ctx.body = (await slaRuleLister(commandContext(ctx, deps))).map((r) => presentSlaRule(r));
    },
  });

  api.route({
    ...common,
    method: 'post',
    path: '/sla-rules',
    operationId: 'createSlaRule',
    summary: 'Add an SLA rule (admin), tried after the existing ones; applies to tickets created or re-matched from now on',
    body: SlaRuleWriteSchema,
    responses: {
      201: { description: 'Created', schema: SlaRuleSchema, headers: ['Location'] },
      403: { description: 'Admins only' },
      409: { description: 'Name taken' },
    },
    handler: async (ctx, { body }) => {
      const rule = await slaRuleCreator(commandContext(ctx, deps), body);
      ctx.status = 201;
      ctx.set('Location', `/api/v1/sla-rules/${rule.id}`);
      ctx.body = presentSlaRule(rule);
    },
  });

  // not /sla-rules/order: every matching Koa route runs, and /sla-rules/{id} would take "order" for an id
  api.route({
    ...common,
    method: 'put',
    path: '/sla-rule-order',
    operationId: 'reorderSlaRules',
    summary: 'Set the order SLA rules are tried in (admin): every id exactly once',
    body: SlaRuleOrderSchema,
    responses: { 200: { description: 'All rules, in the new order', schema: z.array(SlaRuleSchema) }, 403: { description: 'Admins only' } },
    handler: async (ctx, { body }) => {
      ctx.body = (await slaRuleReorderer(commandContext(ctx, deps), body.ids)).map((r) => presentSlaRule(r));
    },
  });

  api.route({
    ...common,
    method: 'get',
    path: '/sla-rules/{id}',
    operationId: 'getSlaRule',
    summary: 'An SLA rule',
    params: IdParams,
    responses: { 200: { description: 'The rule', schema: SlaRuleSchema }, 404: { description: 'No such rule' } },
    handler: async (ctx, { params }) => {
      ctx.body = presentSlaRule(await slaRuleFinder(commandContext(ctx, deps), params.id));
    },
  });

  api.route({
    ...common,
    method: 'put',
    path: '/sla-rules/{id}',
    operationId: 'replaceSlaRule',
    summary: 'Replace an SLA rule (admin), one version on; with apply_to_open=true its open tickets take the new version too',
    params: IdParams,
    query: ApplyToOpenQuery,
    body: SlaRuleWriteSchema,
    responses: {
      200: { description: 'The rule (and the repair batch, when asked)', schema: SlaRuleSchema },
      403: { description: 'Admins only' },
      404: { description: 'No such rule' },
      409: { description: 'Name taken' },
    },
    handler: async (ctx, { params, query, body }) => {
      const c = commandContext(ctx, deps);
      const rule = await slaRuleWriter(c, params.id, body);
      const repair = query.apply_to_open ? await rulePolicyRepairStarter(c, rule) : undefined;
      ctx.body = presentSlaRule(rule, repair);
    },
  });

  api.route({
    ...common,
    method: 'delete',
    path: '/sla-rules/{id}',
    operationId: 'deleteSlaRule',
    summary: 'Delete an SLA rule (admin); tickets on it keep its terms until a matched field changes',
    params: IdParams,
    responses: { 204: { description: 'Deleted' }, 403: { description: 'Admins only' }, 404: { description: 'No such rule' } },
    handler: async (ctx, { params }) => {
      await slaRuleDeleter(commandContext(ctx, deps), params.id);
      ctx.status = 204;
    },
  });

  api.route({
    ...common,
    method: 'get',
    path: '/sla-repairs/{id}',
    operationId: 'getSlaRepair',
    summary: 'Progress of a batch applying an SLA policy edit to open tickets',
    params: IdParams,
    responses: { 200: { description: 'The batch', schema: SlaRepairSchema }, 404: { description: 'No such batch' } },
    handler: async (ctx, { params }) => {
      ctx.body = presentSlaRepair(await slaRepairFinder(commandContext(ctx, deps), params.id));
    },
  });
}
