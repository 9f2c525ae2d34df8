import { z } from 'zod';
import { ErrorEnvelope, type ApiRouter } from '../../api-router.js';
import { serviceUnavailable } from '../../../errors/index.js';
import type { AppDeps } from '../../context.js';
import type { AppMetrics } from '../../../metrics.js';

const Health = z.object({ status: z.literal('ok') }).openapi('Health');
const Ready = z.object({ status: z.literal('ready'), checks: z.record(z.string(), z.string()) }).openapi('Ready');

async function check(name: string, probe: () => Promise<unknown>, timeoutMs = 2_000): Promise<[string, string]> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timed out')), timeoutMs))),
    ]);
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
    summary: 'Readiness: PostgreSQL and Temporal are reachable',
    tags: ['operations'],
    responses: {
      200: { description: 'Ready', schema: Ready },
      503: { description: 'A dependency is unreachable', schema: ErrorEnvelope },
    },
    handler: async (ctx) => {
      const checks = Object.fromEntries(
        await Promise.all([
          check('database', () => deps.db.raw('select 1')),
          check('temporal', () =>
            deps.temporal.workflowService.describeNamespace({ namespace: deps.config.temporal.namespace }),
          ),
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
    responses: { 200: { description: 'Metrics in the Prometheus text format', mediaType: 'text/plain; version=0.0.4', rawSchema: { type: 'string' } } },
    handler: async (ctx) => {
      ctx.type = metrics.registry.contentType;
      ctx.body = await metrics.registry.metrics();
    },
  });
}
