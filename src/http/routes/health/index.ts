import { optionalTsToMs } from '@temporalio/common/lib/time.js';
import { z } from 'zod';
import { ErrorEnvelope, type ApiRouter } from '../../api-router.js';
import { serviceUnavailable } from '../../../errors/index.js';
import type { AppDeps } from '../../context.js';
import type { AppMetrics } from '../../../metrics.js';

const Health = z.object({ status: z.literal('ok') }).openapi('Health');
const Ready = z.object({ status: z.literal('ready'), checks: z.record(z.string(), z.string()) }).openapi('Ready');
const ReadyQuery = z.object({
  workers: z
    .enum(['required'])
    .optional()
    .describe('`required`: also require a worker polling the ticket task queue (creates answer 202 until one does)'),
});
/** A worker long-polls (≤ 70 s per poll); one not seen for longer is gone. */
const WORKER_SEEN_WITHIN_MS = 90_000;

const CHECK_TIMEOUT_MS = 2_000;

async function check(name: string, probe: () => Promise<unknown>, timeoutMs = CHECK_TIMEOUT_MS): Promise<[string, string]> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([probe(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timed out')), timeoutMs)))]);
    return [name, 'ok'];
  } catch (err) {
    return [name, `unavailable: ${(err as Error).message.split('\n')[0]}`];
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes(api: ApiRouter, deps: AppDeps): void {
  api.route({
    method: 'get',
    path: '/health',
    operationId: 'getHealth',
    summary: 'Liveness: the process answers',
    tags: ['operations'],
    responses: { 200: { description: 'Alive', schema: Health } },
    handler: async (ctx) => {
      ctx.body = { status: 'ok' };
    },
  });

  api.route({
    method: 'get',
    path: '/ready',
    operationId: 'getReadiness',
    summary: 'Readiness: PostgreSQL and Temporal are reachable (with ?workers=required: and a worker polls)',
    tags: ['operations'],
    query: ReadyQuery,
    responses: {
      200: { description: 'Ready', schema: Ready },
      503: { description: 'A dependency is unreachable', schema: ErrorEnvelope },
    },
    handler: async (ctx, { query }) => {
      const { namespace, taskQueue } = deps.config.temporal;
      // The check's deadline goes on the gRPC call too: the SDK retries an unreachable server in
      // the background, and without a deadline each probe would leave a retry chain running (up
      // to ~10 attempts) after its answer, and past a connection close at shutdown.
      const temporalCall = <T>(call: () => Promise<T>) => deps.temporal.connection.withDeadline(Date.now() + CHECK_TIMEOUT_MS, call);
      const checks = Object.fromEntries(
        await Promise.all([
          check('database', () => deps.db.raw('select 1')),
          check('temporal', () => temporalCall(() => deps.temporal.workflowService.describeNamespace({ namespace }))),
          // opt-in: the API serves reads and accepts creates (202) without workers, so a worker is
          // not part of its own readiness; deploy scripts and tests wait on this before traffic
          ...(query.workers === 'required'
            ? [
                check('workers', async () => {
                  const { pollers } = await temporalCall(() =>
                    deps.temporal.workflowService.describeTaskQueue({ namespace, taskQueue: { name: taskQueue } }),
                  );
                  const seen = (pollers ?? []).filter((p) => Date.now() - (optionalTsToMs(p.lastAccessTime) ?? 0) < WORKER_SEEN_WITHIN_MS);
                  if (!seen.length) throw new Error(`no worker polls the task queue ${taskQueue}`);
                }),
              ]
            : []),
        ]),
      );
      if (Object.values(checks).some((v) => v !== 'ok')) throw serviceUnavailable('not_ready', 'A dependency is unavailable.', { checks });
      ctx.body = { status: 'ready', checks };
    },
  });
}

/**
 * Prometheus scrapes each API process directly (api:8000 in compose); nginx does not pass it on,
 * so it is not public. No credentials: it holds counts and route templates, no personal data.
 */
export function metricsRoutes(api: ApiRouter, metrics: AppMetrics): void {
  api.route({
    method: 'get',
    path: '/metrics',
    operationId: 'getMetrics',
    summary: 'Prometheus metrics of this API process (text exposition format); not served through nginx',
    tags: ['operations'],
    responses: {
      200: { description: 'Metrics in the Prometheus text format', mediaType: 'text/plain; version=0.0.4', rawSchema: { type: 'string' } },
    },
    handler: async (ctx) => {
      ctx.type = metrics.registry.contentType;
      ctx.body = await metrics.registry.metrics();
    },
  });
}
