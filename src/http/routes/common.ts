import { z } from 'zod';
import type { Ctx } from '../api-router.js';
import type { RouteDeps } from '../context.js';

export const IdParams = z.object({ id: z.uuid() });

/** The explicit command context of a request. */
export function commandContext(ctx: Ctx, deps: RouteDeps) {
  return {
    principal: ctx.state.principal!,
    via: 'rest' as const,
    requestId: ctx.state.requestId,
    log: ctx.state.log,
    db: deps.db,
    temporal: deps.temporal,
    config: deps.config,
    confirmWaitMs: deps.tuning?.confirmWaitMs,
  };
}

/** At least one property present (PATCH bodies): the commands' rule. */
export { nonEmpty } from '../../commands/inputs.js';

/** An instant in a response (`toISOString()`): documented as `format: date-time`. */
export const Timestamp = z.iso.datetime();

/**
 * A comma-separated query list of enum values (`status=open,paused`): parsed into an array, and
 * documented as an array of the enum with `style: form, explode: false`, so generated clients send
 * it the same way.
 */
export const csvEnum = <T extends readonly [string, ...string[]]>(values: T) =>
  z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(values)).min(1))
    .openapi({ type: 'array', items: { type: 'string', enum: [...values] }, param: { style: 'form', explode: false } });
