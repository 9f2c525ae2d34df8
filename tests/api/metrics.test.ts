/** GET /api/v1/metrics: Prometheus text with request series by route template and business gauges. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { envelope } from '../../src/events/envelope.js';
import { insertEvent } from '../../src/events/store.js';
import { signedIn } from '../helpers/factories.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';

// Its own database: the gauges count every ticket, and other files change tickets meanwhile.
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ worker: false, scratch: 'metrics' });
});
afterAll(async () => {
  await h?.stop();
});

const scrape = async () => {
  const res = await fetch(`${h.baseUrl}/api/v1/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
};
const sample = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('metrics', () => {
  it('counts requests by route template and status, never by raw path', async () => {
    const { token } = await signedIn(h, 'admin');
    await call(h, 'GET', '/api/v1/tickets/00000000-0000-4000-8000-000000000001', { token });
    await call(h, 'GET', '/api/v1/tickets/ASM-99999', { token });
    await call(h, 'GET', '/api/v1/no/such/route/42');
    const text = await scrape();
    expect(sample(text, 'servicemeow_http_requests_total{method="GET",route="/api/v1/tickets/:id",status="404"}')).toBeGreaterThanOrEqual(
      2,
    );
    expect(sample(text, 'servicemeow_http_requests_total{method="GET",route="unmatched",status="404"}')).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain('ASM-99999');
    expect(text).not.toContain('/no/such/route');
    expect(text).toMatch(/servicemeow_http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/api\/v1\/tickets\/:id"\}/);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
  });

  it('reads the business gauges from the database at scrape time', async () => {
    const before = await scrape();
    const open = sample(before, 'servicemeow_tickets{status="open"}');
    expect(open).toBe(0);
    const [user] = await h.db('users').limit(1).select('id');
    await h
      .db('tickets')
      .insert({ id: '00000000-0000-4000-8000-0000000000aa', title: 'Counted', priority: 'low', createdById: user.id, slaBreached: true });
    try {
      const after = await scrape();
      expect(sample(after, 'servicemeow_tickets{status="open"}')).toBe(1);
      expect(sample(after, 'servicemeow_tickets_sla_breached')).toBe(1);
      for (const g of ['servicemeow_webhook_deliveries_pending', 'servicemeow_webhooks_disabled', 'servicemeow_event_streams'])
        expect(sample(after, g), g).toBeGreaterThanOrEqual(0);
    } finally {
      await h.db('tickets').where({ id: '00000000-0000-4000-8000-0000000000aa' }).delete();
    }
    expect(sample(await scrape(), 'servicemeow_tickets{status="open"}')).toBe(0);
  });

  it('times each fan-out of new events to the open streams', async () => {
    const { token } = await signedIn(h, 'admin');
    const before = sample(await scrape(), 'servicemeow_event_fanout_seconds_count') ?? 0;
    const abort = new AbortController();
    const res = await fetch(`${h.baseUrl}/api/v1/events/stream`, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
    const reader = res.body!.getReader();
    const readUntil = async (text: string) => {
      let seen = '';
      while (!seen.includes(text)) seen += new TextDecoder().decode((await reader.read()).value);
    };
    try {
      await readUntil('retry:');
      const e = envelope('ticket.updated', {
        ticket: { id: randomUUID(), assigned_group_id: null, assigned_user_id: null, created_by_id: null },
        changes: {},
        actor: { type: 'system' },
      });
      await insertEvent(h.db, { id: e.id, type: e.type, payload: e });
      await readUntil(e.id);
      const text = await scrape();
      expect(sample(text, 'servicemeow_event_streams')).toBe(1);
      expect(sample(text, 'servicemeow_event_fanout_seconds_count')).toBeGreaterThan(before);
      expect(text).toMatch(/^servicemeow_event_fanout_seconds_bucket\{le="0.001"\} \d+$/m);
    } finally {
      abort.abort();
    }
  });
});
