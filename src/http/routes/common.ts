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
    db: deps.db,
    temporal: deps.temporal,
    config: deps.config,
    createWaitMs: deps.tuning?.createWaitMs,
  };
}

/** At least one property present (PATCH bodies). */
export const nonEmpty = <T extends z.ZodObject<z.ZodRawShape>>(schema: T) =>
  schema.refine((v) => Object.values(v).some((x) => x !== undefined), { message: 'send at least one field to change' });
