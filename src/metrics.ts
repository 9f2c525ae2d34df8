/**
 * Prometheus metrics of one API process (`GET /api/v1/metrics`, text exposition format): Node's
 * process metrics, every request by method, route template and status (never the raw path, so
 * label values stay few), open event streams and how long each batch of events takes to reach them, and — read from PostgreSQL at scrape time, from
 * indexed counts — tickets by status, breached tickets, pending webhook deliveries and disabled
 * endpoints. Each app has its own registry, so several apps (tests) never share counters.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Db } from './db/index.js';
import { TICKET_STATUSES } from '../workflows/vocabulary.js';

export interface AppMetrics {
  registry: Registry;
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  /** one batch of events handed to every open stream of this process (events/hub.ts) */
  observeFanOut(seconds: number): void;
}

export function createMetrics(db: Db, streams: { readonly size: number }, opts: { defaults?: boolean } = {}): AppMetrics {
  const registry = new Registry();
  if (opts.defaults !== false) collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: 'servicemeow_http_requests_total',
    help: 'HTTP requests by method, route template and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'servicemeow_http_request_duration_seconds',
    help: 'HTTP request duration by method and route template',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const fanOut = new Histogram({
    name: 'servicemeow_event_fanout_seconds',
    help: 'Time to hand one batch of new events to every open event stream of this process (socket writes included)',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  new Gauge({
    name: 'servicemeow_event_streams',
    help: 'Open Server-Sent Event streams on this process',
    registers: [registry],
    collect() {
      this.set(streams.size);
    },
  });

  new Gauge({
    name: 'servicemeow_tickets',
    help: 'Live (not deleted) tickets by status',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const rows: { status: string; n: string }[] = await db('tickets')
        .whereNull('deletedAt')
        .groupBy('status')
        .select('status')
        .count('* as n');
      this.reset();
      for (const status of TICKET_STATUSES) this.set({ status }, Number(rows.find((r) => r.status === status)?.n ?? 0));
    },
  });
  new Gauge({
    name: 'servicemeow_tickets_sla_breached',
    help: 'Live tickets with a metric breached in its current cycle',
    registers: [registry],
    async collect() {
      const row = (await db('tickets').whereNull('deletedAt').where('slaBreached', true).count('* as n').first()) as { n: string };
      this.set(Number(row.n));
    },
  });
  new Gauge({
    name: 'servicemeow_webhook_deliveries_pending',
    help: 'Webhook deliveries not yet settled (being attempted or waiting for a retry)',
    registers: [registry],
    async collect() {
      const row = (await db('webhook_deliveries').where({ status: 'pending' }).count('* as n').first()) as { n: string };
      this.set(Number(row.n));
    },
  });
  new Gauge({
    name: 'servicemeow_webhooks_disabled',
    help: 'Webhook endpoints disabled (by an operator, a 410, or a run of failures)',
    registers: [registry],
    async collect() {
      const row = (await db('webhooks').where({ isActive: false }).count('* as n').first()) as { n: string };
      this.set(Number(row.n));
    },
  });

  return {
    registry,
    observeRequest(method, route, status, seconds) {
      requests.inc({ method, route, status: String(status) });
      duration.observe({ method, route }, seconds);
    },
    observeFanOut(seconds) {
      fanOut.observe(seconds);
    },
  };
}
