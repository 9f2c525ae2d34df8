/** An SLA preview → JSON (snake_case timeline, like GET /tickets/{id}/sla). */
import type { slaPreviewer } from '../commands/sla/preview-commands.js';

export function presentSlaPreview({ policy, preview }: Awaited<ReturnType<typeof slaPreviewer>>) {
  return {
    policy,
    start: preview.start,
    assign: preview.assign,
    resolve: preview.resolve,
    timeline: preview.timeline.map((e) => ({
      at: e.at,
      metric: e.metric,
      kind: e.kind,
      elapsed_seconds: e.elapsedSeconds,
      target_seconds: e.targetSeconds,
      ...(e.detail !== undefined ? { detail: e.detail } : {}),
    })),
  };
}
