import { slaPreviewer, slaWhatIf } from '../../../commands/sla/preview-commands.js';
import { presentSlaPreview } from '../../../presenters/sla-preview.js';
import type { ApiRouter } from '../../api-router.js';
import type { RouteDeps } from '../../context.js';
import { commandContext } from '../common.js';
import { SlaPreviewRequestSchema, SlaPreviewSchema, SlaWhatIfRequestSchema, SlaWhatIfSchema } from './schema.js';

export function slaPreviewRoutes(api: ApiRouter, deps: RouteDeps): void {
  const common = { tags: ['sla'], secured: true, before: deps.guard };

  api.route({
    ...common,
    method: 'post',
    path: '/sla-preview',
    operationId: 'previewSla',
    summary: 'Deadlines and warnings of a stored or draft policy for a start instant and optional pauses (computes, stores nothing)',
    body: SlaPreviewRequestSchema,
    responses: { 200: { description: 'Deadlines per metric and the timeline', schema: SlaPreviewSchema } },
    handler: async (ctx, { body }) => {
      const input = {
        policy: body.policy,
        start: new Date(body.start),
        pauses: body.pauses.map((p) => ({ from: new Date(p.from), to: new Date(p.to), status: p.status })),
      };
      ctx.body = presentSlaPreview(await slaPreviewer(commandContext(ctx, deps), input));
    },
  });

  api.route({
    ...common,
    method: 'post',
    path: '/sla-preview/what-if',
    operationId: 'previewSlaWhatIf',
    summary: 'Replay the last N days of tickets under a policy: how many would have breached, against how many did (admin, manager)',
    body: SlaWhatIfRequestSchema,
    responses: {
      200: { description: 'Breach counts, actual and what-if', schema: SlaWhatIfSchema },
      403: { description: 'Agents may not' },
    },
    handler: async (ctx, { body }) => {
      ctx.body = await slaWhatIf(commandContext(ctx, deps), body);
    },
  });
}
