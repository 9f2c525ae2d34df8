import { groupCreator, groupFinder, groupLister, groupMemberAdder, groupMemberRemover, groupUpdater } from '../../../commands/groups.js';
import { presentGroup, presentGroupDetail, presentMember } from '../../../presenters/group.js';
import type { ApiRouter } from '../../api-router.js';
import type { RouteDeps } from '../../context.js';
import { PaginationQuery, Paginated, pageOf } from '../../pagination.js';
import { commandContext, IdParams } from '../common.js';
import {
  GroupCreateSchema,
  GroupDetailSchema,
  GroupMemberAddSchema,
  GroupMemberSchema,
  GroupSchema,
  GroupUpdateSchema,
  MemberParams,
} from './schema.js';

export function groupRoutes(api: ApiRouter, deps: RouteDeps): void {
  const common = { tags: ['groups'], secured: true, before: deps.guard };

  api.route({
    ...common,
    method: 'post',
    path: '/groups',
    operationId: 'createGroup',
    summary: 'Create a group (admin, manager)',
    body: GroupCreateSchema,
    responses: {
      201: { description: 'Created', schema: GroupSchema, headers: ['Location'] },
      403: { description: 'Agents may not' },
      409: { description: 'Name taken' },
    },
    handler: async (ctx, { body }) => {
      const group = await groupCreator(commandContext(ctx, deps), body);
      ctx.status = 201;
      ctx.set('Location', `/api/v1/groups/${group.id}`);
      ctx.body = presentGroup(group);
    },
  });

  api.route({
    ...common,
    method: 'get',
    path: '/groups',
    operationId: 'listGroups',
    summary: 'List groups with member counts',
    query: PaginationQuery,
    responses: { 200: { description: 'A page of groups', schema: Paginated(GroupSchema, 'GroupPage') } },
    handler: async (ctx, { query }) => {
      const { results, total } = await groupLister(commandContext(ctx, deps), query);
      ctx.body = pageOf(results.map(presentGroup), total, query.page, query.page_size);
    },
  });

  api.route({
    ...common,
    method: 'get',
    path: '/groups/{id}',
    operationId: 'getGroup',
    summary: 'A group with its members',
    params: IdParams,
    responses: { 200: { description: 'The group', schema: GroupDetailSchema }, 404: { description: 'No such group' } },
    handler: async (ctx, { params }) => {
      const { group, members } = await groupFinder(commandContext(ctx, deps), params.id);
      ctx.body = presentGroupDetail(group, members);
    },
  });

  api.route({
    ...common,
    method: 'patch',
    path: '/groups/{id}',
    operationId: 'updateGroup',
    summary: 'Rename or describe a group (admin, manager)',
    params: IdParams,
    body: GroupUpdateSchema,
    responses: {
      200: { description: 'Updated', schema: GroupSchema },
      403: { description: 'Agents may not' },
      404: { description: 'No such group' },
      409: { description: 'Name taken' },
    },
    handler: async (ctx, { params, body }) => {
      ctx.body = presentGroup(await groupUpdater(commandContext(ctx, deps), params.id, body));
    },
  });

  api.route({
    ...common,
    method: 'post',
    path: '/groups/{id}/members',
    operationId: 'addGroupMember',
    summary: 'Add a member, optionally as lead (admin, manager)',
    params: IdParams,
    body: GroupMemberAddSchema,
    responses: {
      201: { description: 'Added', schema: GroupMemberSchema },
      403: { description: 'Agents may not' },
      404: { description: 'No such group' },
      409: { description: 'Already a member' },
    },
    handler: async (ctx, { params, body }) => {
      ctx.status = 201;
      ctx.body = presentMember(await groupMemberAdder(commandContext(ctx, deps), params.id, body));
    },
  });

  api.route({
    ...common,
    method: 'delete',
    path: '/groups/{id}/members/{user_id}',
    operationId: 'removeGroupMember',
    summary: 'Remove a member (admin, manager)',
    params: MemberParams,
    responses: {
      204: { description: 'Removed' },
      403: { description: 'Agents may not' },
      404: { description: 'No such group or membership' },
    },
    handler: async (ctx, { params }) => {
      await groupMemberRemover(commandContext(ctx, deps), params.id, params.user_id);
      ctx.status = 204;
    },
  });
}
