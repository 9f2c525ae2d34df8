/**
 * Webhook deliveries end to end: real tickets on the real dev server, real receivers on loopback,
 * the retry schedule compressed to seconds. Webhooks receive every event of their database, so
 * this file runs on a database of its own and removes its subscriptions after each test.
 */
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { createHmac, randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import proto from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { insertTicketRecord } from '../../src/store/ticket-records.js';
import { Event, User, Webhook, WebhookDelivery, WebhookDeliveryAttempt } from '../../src/models/index.js';
import type { TicketCreateInput } from '../../workflows/definitions.js';
import { queueDeliveries, queueDeliveryTo } from '../../src/webhooks/deliveries.js';
import { eventually } from '../helpers/eventually.js';
import { createApiKey, ensureSlaPolicies, signedIn } from '../helpers/factories.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { SseClient } from '../helpers/sse.js';
import { ticketCreateInput } from '../helpers/snapshots.js';

let h: Harness;
let admin: string;
let agent: string;
const receivers: Receiver[] = [];

beforeAll(async () => {
  h = await startHarness({
    scratch: 'webhooks',
    env: {
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      RATE_LIMIT_PER_MINUTE: '100000',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      WEBHOOK_RETRY_SCHEDULE: '0s,1s,1s,1s,1s',
    },
    reconcileEveryMs: 1_000,
  });
  await ensureSlaPolicies(h.db);
  [admin, agent] = await Promise.all([signedIn(h, 'admin'), signedIn(h, 'agent')]).then((s) => s.map((x) => x.token));
});
afterEach(async () => {
  // Attempts still in flight (a hanging endpoint's) update their delivery rows while this delete
  // cascades to them: PostgreSQL may pick the delete as a deadlock's victim (40P01). Try again.
  for (let attempt = 1; ; attempt++) {
    try {
      await Webhook.query(h.db).delete();
      break;
    } catch (err) {
      const code = (err as { nativeError?: { code?: string } }).nativeError?.code;
      if (code !== '40P01' || attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});
afterAll(async () => {
  await h?.stop();
});

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}

async function subscribe(url: string, eventTypes: string[] = ['*']): Promise<{ id: string; secret: string }> {
  const res = await call(h, 'POST', '/api/v1/webhooks', { token: admin, body: { url, event_types: eventTypes } });
  expect(res.status).toBe(201);
  return res.body;
}

const newTicket = async (title = 'Printer on fire') => {
  const res = await call(h, 'POST', '/api/v1/tickets', { token: admin, body: { title, priority: 'low' } });
  expect(res.status).toBe(201);
  return res.body as { id: string; ticket_number: string };
};

const deliveriesOf = (webhookId: string) => WebhookDelivery.query(h.db).where({ webhookId }).orderBy('created_at');
const settled = async (webhookId: string, count: number) =>
  eventually(async () => {
    const rows = await deliveriesOf(webhookId);
    return rows.length >= count && rows.every((d) => d.status !== 'pending') && rows;
  }, 30_000);

describe('delivering events', () => {
  it('sends each event to every matching active endpoint, signed per Standard Webhooks, and records the attempt', async () => {
    const [all, created, other, paused] = await Promise.all([receiver(), receiver(), receiver(), receiver()]);
    const toAll = await subscribe(all.url);
    const toCreated = await subscribe(created.url, ['ticket.created']);
    const toOther = await subscribe(other.url, ['ticket.sla_breached']);
    const inactive = await subscribe(paused.url);
    await call(h, 'PATCH', `/api/v1/webhooks/${inactive.id}`, { token: admin, body: { is_active: false } });

    const ticket = await newTicket();
    const event = await eventually(async () => Event.query(h.db).findOne({ ticketId: ticket.id, type: 'ticket.created' }));
    await eventually(async () => all.received.length >= 1 && created.received.length >= 1);

    for (const [r, secret] of [
      [all, toAll.secret],
      [created, toCreated.secret],
    ] as const) {
      const got = r.received[0]!;
      // an independent implementation of the scheme accepts it
      const verified = new StandardWebhook(secret).verify(got.body, got.headers) as {
        id: string;
        type: string;
        data: { ticket: { id: string } };
      };
      expect(verified).toMatchObject({ id: event.id, type: 'ticket.created', data: { ticket: { id: ticket.id } } });
      expect(got.headers['webhook-id']).toBe(event.id);
      expect(got.headers['content-type']).toBe('application/json');
      const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
      expect(got.headers['x-servicemeow-signature']).toBe(createHmac('sha256', key).update(got.body).digest('hex'));
      expect(Object.keys(JSON.parse(got.body))).toEqual(['id', 'type', 'timestamp', 'data']);
      expect(JSON.parse(got.body)).toEqual(event.payload);
    }
    // the wrong secret does not verify
    expect(() => new StandardWebhook(toCreated.secret).verify(all.received[0]!.body, all.received[0]!.headers)).toThrow();

    const [delivery] = await settled(toAll.id, 1);
    expect(delivery).toMatchObject({ status: 'succeeded', attemptCount: 1, lastStatusCode: 200, lastError: null, nextAttemptAt: null });
    const detail = await call(h, 'GET', `/api/v1/webhooks/${toAll.id}/deliveries/${delivery!.id}`, { token: admin });
    expect(detail.body).toMatchObject({
      event_type: 'ticket.created',
      event_id: event.id,
      status: 'succeeded',
      attempts: [{ attempt_number: 1, status_code: 200, response_body: 'ok', error: null }],
    });
    expect(detail.body.attempts[0].latency_ms).toBeGreaterThanOrEqual(0);

    // deliveries are queued in the event's own transaction: with the event stored, no row means none is ever sent
    expect(await deliveriesOf(toOther.id)).toHaveLength(0);
    expect(await deliveriesOf(inactive.id)).toHaveLength(0);
    expect(other.received).toHaveLength(0);
    expect(paused.received).toHaveLength(0);
  });

  it('retries on 5xx and 429 with the same webhook-id until the endpoint answers 2xx', async () => {
    const r = await receiver();
    r.sequence([500, 503, 429]);
    const hook = await subscribe(r.url, ['ticket.created']);
    await newTicket();
    const [delivery] = await settled(hook.id, 1);
    expect(delivery).toMatchObject({ status: 'succeeded', attemptCount: 4, lastStatusCode: 200 });
    expect(r.received).toHaveLength(4);
    expect(new Set(r.received.map((x) => x.headers['webhook-id'])).size).toBe(1);
    // each attempt is signed afresh, with its own timestamp, and still verifies
    for (const got of r.received) expect(() => new StandardWebhook(hook.secret).verify(got.body, got.headers)).not.toThrow();
    const attempts = await WebhookDeliveryAttempt.query(h.db).where({ deliveryId: delivery!.id }).orderBy('attempt_number');
    expect(attempts.map((a) => [a.attemptNumber, a.statusCode])).toEqual([
      [1, 500],
      [2, 503],
      [3, 429],
      [4, 200],
    ]);
    expect(attempts[0]!.error).toBe('HTTP 500');
    // a success ends the endpoint's run of failures
    expect((await Webhook.query(h.db).findById(hook.id))!.failingSince).toBeNull();

    // the fan-out workflow ran one activity, retried server-side, and replays deterministically
    const handle = h.temporal.client.workflow.getHandle(`webhook-deliveries-${r.received[0]!.headers['webhook-id']}`);
    expect(await handle.result()).toEqual(['succeeded']);
    const history = await handle.fetchHistory();
    const bundle = { code: await readFile(inject('workflowBundlePath'), 'utf8') };
    await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history, handle.workflowId)).resolves.toBeUndefined();
    if (process.env.RECORD_HISTORIES) {
      const { History } = proto.temporal.api.history.v1;
      await writeFile(
        path.join(import.meta.dirname, '../workflows/histories', `webhook-deliveries-${randomUUID().slice(0, 8)}.history.pb`),
        History.encode(history).finish(),
      );
    }
  });

  it('waits at least as long as Retry-After asks', async () => {
    const r = await receiver();
    let answered = 0;
    r.respond((_req, res) => (answered++ === 0 ? res.writeHead(503, { 'retry-after': '3' }).end() : res.end('ok')));
    const hook = await subscribe(r.url, ['ticket.created']);
    await newTicket();
    await settled(hook.id, 1);
    expect(r.received).toHaveLength(2);
    // the schedule alone would retry after ~1 s
    expect(r.received[1]!.at - r.received[0]!.at).toBeGreaterThanOrEqual(2_900);
  });

  it('treats 3xx and 4xx other than 408/429 as final: one attempt, delivery failed, no retry', async () => {
    const [bad, moved] = await Promise.all([receiver(), receiver()]);
    bad.respond((_r, res) => res.writeHead(400).end('bad\0input')); // binary in the answer is stored without its NULs
    moved.respond((_r, res) => res.writeHead(301, { location: 'http://example.com/' }).end());
    const [a, b] = await Promise.all([subscribe(bad.url, ['ticket.created']), subscribe(moved.url, ['ticket.created'])]);
    await newTicket();
    const [[da], [db]] = await Promise.all([settled(a.id, 1), settled(b.id, 1)]);
    expect(da).toMatchObject({ status: 'failed', attemptCount: 1, lastStatusCode: 400, lastError: 'HTTP 400' });
    expect((await WebhookDeliveryAttempt.query(h.db).findOne({ deliveryId: da!.id }))!.responseBody).toBe('badinput');
    expect(db).toMatchObject({ status: 'failed', attemptCount: 1, lastStatusCode: 301 });
    await sleep(2_500); // two schedule slots
    expect(bad.received).toHaveLength(1);
    expect(moved.received).toHaveLength(1);
    // the endpoints stay active (one bad answer is not a pattern) but their run of failures started
    expect(await Webhook.query(h.db).findById(a.id)).toMatchObject({ isActive: true, failingSince: expect.any(Date) });
  });

  it('gives up after the last slot of the schedule', async () => {
    const r = await receiver();
    r.sequence(Array(10).fill(500));
    const hook = await subscribe(r.url, ['ticket.created']);
    await newTicket();
    const [delivery] = await settled(hook.id, 1);
    expect(delivery).toMatchObject({ status: 'failed', attemptCount: 5, lastError: 'HTTP 500; no retries left', nextAttemptAt: null });
    expect(r.received).toHaveLength(5);
  });
});

describe('endpoint health', () => {
  it('disables an endpoint that answers 410 Gone, cancels its pending deliveries and tells the others', async () => {
    const [gone, watcher] = await Promise.all([receiver(), receiver()]);
    const hook = await subscribe(gone.url, ['ticket.created']);
    const watching = await subscribe(watcher.url, ['webhook.disabled']);
    // a delivery of an older event is waiting for its retry when the 410 comes
    gone.respond((_r, res) => res.writeHead(503, { 'retry-after': '30' }).end());
    await newTicket('older');
    const waiting = await eventually(async () => {
      const [d] = await deliveriesOf(hook.id);
      return d && d.attemptCount === 1 && d;
    });
    // Retry-After also holds every other delivery to the endpoint (endpoint-budget.test.ts); lift
    // that hold so the newer event goes out now, while the older delivery still waits for its retry
    await h.db('webhooks').where({ id: hook.id }).update({ retry_after_until: null });
    gone.respond((_r, res) => res.writeHead(410).end('gone'));
    await newTicket('newer');
    await eventually(async () => (await Webhook.query(h.db).findById(hook.id))!.isActive === false);
    const disabled = (await call(h, 'GET', `/api/v1/webhooks/${hook.id}`, { token: admin })).body;
    expect(disabled).toMatchObject({
      is_active: false,
      disabled_reason: 'The endpoint answered 410 Gone.',
      disabled_at: expect.any(String),
    });
    expect(gone.received).toHaveLength(2);
    expect(await WebhookDelivery.query(h.db).findById(waiting.id)).toMatchObject({
      status: 'cancelled',
      nextAttemptAt: null,
      lastError: 'The endpoint answered 410 Gone.',
    });

    // the disable is an event of its own, delivered to whoever subscribes to it
    await eventually(async () => watcher.received.length >= 1);
    const told = new StandardWebhook(watching.secret).verify(watcher.received[0]!.body, watcher.received[0]!.headers) as {
      type: string;
      data: { webhook: { id: string; disabled_reason: string } };
    };
    expect(told).toMatchObject({
      type: 'webhook.disabled',
      data: { webhook: { id: hook.id, disabled_reason: 'The endpoint answered 410 Gone.' } },
    });

    // nothing more goes to a disabled endpoint (no delivery is queued with the event), until it is re-enabled (which clears the reason)
    const queuedBefore = (await deliveriesOf(hook.id)).length;
    const after = await newTicket('after the 410');
    await eventually(async () => Event.query(h.db).findOne({ ticketId: after.id, type: 'ticket.created' }));
    expect(await deliveriesOf(hook.id)).toHaveLength(queuedBefore);
    expect(gone.received).toHaveLength(2);
    const enabled = await call(h, 'PATCH', `/api/v1/webhooks/${hook.id}`, { token: admin, body: { is_active: true } });
    expect(enabled.body).toMatchObject({ is_active: true, disabled_reason: null, failing_since: null });
  });

  it('tells subscribers and the stream only the id and reason of a disabled endpoint, never its URL; webhook.* events only to those who manage webhooks', async () => {
    const [gone, watcher] = await Promise.all([receiver(), receiver()]);
    gone.respond((_r, res) => res.writeHead(410).end('gone'));
    const tokenUrl = `${gone.url}?token=sekret-in-the-query`;
    const hook = await subscribe(tokenUrl, ['ticket.created']);
    const watching = await subscribe(watcher.url); // `*`: every event, webhook.disabled included
    const owner = await signedIn(h, 'admin');
    const narrowed = await createApiKey(h.db, owner.user, ['tickets:read']); // an admin's key, narrowed
    const streams = [
      await SseClient.open(`${h.baseUrl}/api/v1/events/stream`, { authorization: `Bearer ${owner.token}` }),
      await SseClient.open(`${h.baseUrl}/api/v1/events/stream`, { 'x-api-key': narrowed.plain }),
    ];
    try {
      const [manager, reader] = streams as [SseClient, SseClient];
      expect([manager.status, reader.status]).toEqual([200, 200]);
      await newTicket('answered with 410');
      await eventually(async () => watcher.received.some((r) => (JSON.parse(r.body) as { type: string }).type === 'webhook.disabled'));
      const told = watcher.received.find((r) => (JSON.parse(r.body) as { type: string }).type === 'webhook.disabled')!;
      expect(new StandardWebhook(watching.secret).verify(told.body, told.headers)).toMatchObject({
        data: { webhook: { id: hook.id, disabled_reason: 'The endpoint answered 410 Gone.' } },
      });
      expect((JSON.parse(told.body) as { data: { webhook: object } }).data.webhook).toEqual({
        id: hook.id,
        disabled_reason: 'The endpoint answered 410 Gone.',
      });
      expect(told.body).not.toContain('sekret');
      expect(told.body).not.toContain(gone.url);
      const [stored] = await Event.query(h.db)
        .where({ type: 'webhook.disabled' })
        .whereRaw("payload->'data'->'webhook'->>'id' = ?", [hook.id]);
      expect(JSON.stringify(stored!.payload)).not.toContain('sekret');

      // a test event names the endpoint by id too
      const tested = await call(h, 'POST', `/api/v1/webhooks/${watching.id}/test`, { token: admin });
      expect(tested.status).toBe(202);
      await eventually(async () => watcher.received.some((r) => (JSON.parse(r.body) as { type: string }).type === 'webhook.test'));
      const test = watcher.received.find((r) => (JSON.parse(r.body) as { type: string }).type === 'webhook.test')!;
      expect((JSON.parse(test.body) as { data: { webhook: object } }).data.webhook).toEqual({ id: watching.id });

      // the stream: a principal who manages webhooks sees both, without the URL ...
      await manager.waitFor(
        (frames) => frames.some((f) => f.event === 'webhook.disabled') && frames.some((f) => f.event === 'webhook.test'),
      );
      expect(JSON.stringify(manager.events)).not.toContain('sekret');
      // ... a key narrowed to tickets:read sees tickets but no webhook.* event: a later ticket event,
      // committed after both, is the barrier that shows it had its chance to get them
      const barrier = await newTicket('barrier');
      await reader.waitFor((frames) => frames.some((f) => f.data?.data?.ticket?.id === barrier.id));
      await manager.waitFor((frames) => frames.some((f) => f.data?.data?.ticket?.id === barrier.id));
      expect(reader.events.some((f) => f.event === 'ticket.created')).toBe(true);
      expect(reader.events.filter((f) => f.event?.startsWith('webhook.'))).toEqual([]);
    } finally {
      streams.forEach((s) => s.close());
    }
  });

  it('disables an endpoint after nothing but failures for WEBHOOK_DISABLE_AFTER (5 days), with a reason', async () => {
    const r = await receiver();
    r.sequence([500]);
    const hook = await subscribe(r.url, ['ticket.created']);
    // the endpoint has been failing for 5 days and a minute
    const since = new Date(Date.now() - 5 * 24 * 3600e3 - 60e3);
    await Webhook.query(h.db)
      .patch({ failingSince: since } as Partial<Webhook>)
      .where({ id: hook.id });
    await newTicket();
    await eventually(async () => (await Webhook.query(h.db).findById(hook.id))!.isActive === false);
    const disabled = await Webhook.query(h.db).findById(hook.id);
    expect(disabled!.disabledReason).toBe(`Every delivery attempt since ${since.toISOString()} failed.`);
    const [delivery] = await settled(hook.id, 1);
    expect(delivery).toMatchObject({ status: 'cancelled', attemptCount: 1, lastStatusCode: 500 });
    expect(
      await Event.query(h.db).where({ type: 'webhook.disabled' }).whereRaw("payload->'data'->'webhook'->>'id' = ?", [hook.id]),
    ).toHaveLength(1);
    expect(r.received).toHaveLength(1);
  });

  it('a failing endpoint never delays a healthy one', async () => {
    const [hanging, failing, healthy] = await Promise.all([receiver(), receiver(), receiver()]);
    hanging.respond(() => undefined); // holds every attempt for the whole 15 s budget
    failing.respond((_r, res) => res.writeHead(500).end());
    await subscribe(hanging.url);
    await subscribe(failing.url);
    await subscribe(healthy.url);
    const started = Date.now();
    const tickets = await Promise.all(Array.from({ length: 8 }, (_, i) => newTicket(`burst ${i}`)));
    await eventually(async () => healthy.received.length >= tickets.length, 30_000);
    // every healthy delivery arrived while the hanging endpoint still held its attempts open (no
    // more than its budget of 4 at once), and the failing endpoint kept being tried alongside
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(hanging.received.length).toBeGreaterThanOrEqual(1);
    expect(hanging.received.length).toBeLessThanOrEqual(4);
    expect(failing.received.length).toBeGreaterThanOrEqual(1);
    const got = new Set(healthy.received.map((x) => (JSON.parse(x.body) as { data: { ticket: { id: string } } }).data.ticket.id));
    expect(got).toEqual(new Set(tickets.map((t) => t.id)));
  }, 60_000);
});

describe('operator tools', () => {
  it('sends a webhook.test event to one endpoint only; agents may not; a disabled endpoint gets 409', async () => {
    const [mine, bystander] = await Promise.all([receiver(), receiver()]);
    const hook = await subscribe(mine.url, ['ticket.created']);
    const bystanding = await subscribe(bystander.url);
    expect((await call(h, 'POST', `/api/v1/webhooks/${hook.id}/test`, { token: agent })).status).toBe(403);
    const res = await call(h, 'POST', `/api/v1/webhooks/${hook.id}/test`, { token: admin });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ event_type: 'webhook.test', status: 'pending', generation: 0 });
    expect(res.headers.get('location')).toBe(`/api/v1/webhooks/${hook.id}/deliveries/${res.body.id}`);
    await eventually(async () => mine.received.length >= 1);
    const body = new StandardWebhook(hook.secret).verify(mine.received[0]!.body, mine.received[0]!.headers) as {
      type: string;
      data: { webhook: { id: string } };
    };
    expect(body).toMatchObject({ type: 'webhook.test', data: { webhook: { id: hook.id } } });
    // the test event's delivery rows were written before the 202: the bystander has none, so gets nothing
    expect(await deliveriesOf(bystanding.id)).toHaveLength(0);
    expect(bystander.received).toHaveLength(0);

    await call(h, 'PATCH', `/api/v1/webhooks/${hook.id}`, { token: admin, body: { is_active: false } });
    const refused = await call(h, 'POST', `/api/v1/webhooks/${hook.id}/test`, { token: admin });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('webhook_disabled');
    expect((await call(h, 'POST', `/api/v1/webhooks/00000000-0000-4000-8000-000000000000/test`, { token: admin })).status).toBe(404);
  });

  it('lists deliveries with filters, and redelivers a settled one with the same webhook-id', async () => {
    const r = await receiver();
    r.sequence([400]);
    const hook = await subscribe(r.url, ['ticket.created']);
    await newTicket();
    const [failed] = await settled(hook.id, 1);
    const list = await call(h, 'GET', `/api/v1/webhooks/${hook.id}/deliveries?status=failed`, { token: admin });
    expect(list.body).toMatchObject({
      total: 1,
      items: [{ id: failed!.id, status: 'failed', last_status_code: 400, attempt_count: 1, event_type: 'ticket.created' }],
    });
    expect((await call(h, 'GET', `/api/v1/webhooks/${hook.id}/deliveries?status=succeeded`, { token: admin })).body.total).toBe(0);
    expect((await call(h, 'GET', `/api/v1/webhooks/${hook.id}/deliveries?status=lost`, { token: admin })).status).toBe(422);

    const again = await call(h, 'POST', `/api/v1/webhooks/${hook.id}/deliveries/${failed!.id}/redeliver`, { token: admin });
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ event_id: failed!.eventId, generation: 1, status: 'pending' });
    await eventually(async () => (await WebhookDelivery.query(h.db).findById(again.body.id))?.status === 'succeeded');
    expect(r.received).toHaveLength(2);
    expect(r.received[1]!.headers['webhook-id']).toBe(r.received[0]!.headers['webhook-id']);
    expect(r.received[1]!.body).toBe(r.received[0]!.body);
    // the original keeps its own history
    expect((await WebhookDelivery.query(h.db).findById(failed!.id))!.status).toBe('failed');
    expect((await call(h, 'GET', `/api/v1/webhooks/${hook.id}/deliveries`, { token: admin })).body.total).toBe(2);

    // a delivery still being attempted cannot be redelivered; a delivery of another endpoint is not found
    r.respond((_req, res) => res.writeHead(503, { 'retry-after': '30' }).end());
    const pending = await call(h, 'POST', `/api/v1/webhooks/${hook.id}/test`, { token: admin });
    await eventually(async () => (await WebhookDelivery.query(h.db).findById(pending.body.id))!.attemptCount >= 1);
    const busy = await call(h, 'POST', `/api/v1/webhooks/${hook.id}/deliveries/${pending.body.id}/redeliver`, { token: admin });
    expect(busy.status).toBe(409);
    expect(busy.body.error.code).toBe('delivery_pending');
    const otherHook = await subscribe('http://127.0.0.1:9/nowhere', ['ticket.sla_breached']);
    expect((await call(h, 'POST', `/api/v1/webhooks/${otherHook.id}/deliveries/${failed!.id}/redeliver`, { token: admin })).status).toBe(
      404,
    );
    // the pending one shows when it is tried next
    const shown = await call(h, 'GET', `/api/v1/webhooks/${hook.id}/deliveries/${pending.body.id}`, { token: admin });
    expect(Date.parse(shown.body.next_attempt_at)).toBeGreaterThan(Date.now() + 20_000);
    // deactivating the endpoint cancels what waits for a retry, at once
    await call(h, 'PATCH', `/api/v1/webhooks/${hook.id}`, { token: admin, body: { is_active: false } });
    const cancelled = await call(h, 'GET', `/api/v1/webhooks/${hook.id}/deliveries/${pending.body.id}`, { token: admin });
    expect(cancelled.body).toMatchObject({ status: 'cancelled', next_attempt_at: null, last_error: 'the endpoint was deactivated' });
  });

  it('after a rotation signs with the new secret and, for the grace period, the old one too', async () => {
    const r = await receiver();
    const hook = await subscribe(r.url, ['ticket.created']);
    const rotated = await call(h, 'POST', `/api/v1/webhooks/${hook.id}/rotate-secret`, { token: admin });
    expect(rotated.status).toBe(200);
    const until = Date.parse(rotated.body.previous_secret_expires_at);
    expect(until - Date.now()).toBeGreaterThan(23.9 * 3600e3);
    expect(until - Date.now()).toBeLessThanOrEqual(24 * 3600e3);
    expect(JSON.stringify(rotated.body)).not.toContain(hook.secret);
    await newTicket();
    await eventually(async () => r.received.length >= 1);
    const got = r.received[0]!;
    // receivers on either secret accept it; the seed header is the new secret's
    expect(() => new StandardWebhook(rotated.body.secret).verify(got.body, got.headers)).not.toThrow();
    expect(() => new StandardWebhook(hook.secret).verify(got.body, got.headers)).not.toThrow();
    const newKey = Buffer.from(rotated.body.secret.slice('whsec_'.length), 'base64');
    expect(got.headers['x-servicemeow-signature']).toBe(createHmac('sha256', newKey).update(got.body).digest('hex'));

    // a rotation with keep_old_for_hours: 0 (a leaked secret) stops the old one at once
    const again = await call(h, 'POST', `/api/v1/webhooks/${hook.id}/rotate-secret`, { token: admin, body: { keep_old_for_hours: 0 } });
    expect(again.body.previous_secret_expires_at).toBeNull();
    expect(
      (await call(h, 'POST', `/api/v1/webhooks/${hook.id}/rotate-secret`, { token: admin, body: { keep_old_for_hours: 500 } })).status,
    ).toBe(422);
    await newTicket();
    await eventually(async () => r.received.length >= 2);
    const after = r.received[1]!;
    expect(() => new StandardWebhook(again.body.secret).verify(after.body, after.headers)).not.toThrow();
    expect(() => new StandardWebhook(rotated.body.secret).verify(after.body, after.headers)).toThrow();
    expect(after.headers['webhook-signature']).not.toContain(' ');
  });

  it('starts deliveries whose workflow never started (a crash between commit and start), and prunes old logs', async () => {
    const r = await receiver();
    const hook = await subscribe(r.url, ['ticket.created']);
    await newTicket();
    await settled(hook.id, 1);
    const event = await Event.query(h.db).findById((JSON.parse(r.received[0]!.body) as { id: string }).id);
    // a row written, its workflow never started: the reconciler (every second here) picks it up
    const orphan = (await queueDeliveryTo(h.db, hook.id, event!.id, 7)).deliveryIds[0]!;
    await WebhookDelivery.query(h.db)
      .patch({ createdAt: new Date(Date.now() - 5_000) } as Partial<WebhookDelivery>)
      .where({ id: orphan });
    await eventually(async () => (await WebhookDelivery.query(h.db).findById(orphan))!.status === 'succeeded', 15_000);
    expect(r.received).toHaveLength(2);

    // settled deliveries are kept 30 days, then the same housekeeping drops them with their attempts
    const aged = await WebhookDelivery.query(h.db).findById(orphan);
    await WebhookDelivery.query(h.db)
      .patch({ completedAt: new Date(Date.now() - 31 * 24 * 3600e3) } as Partial<WebhookDelivery>)
      .where({ id: orphan });
    await eventually(async () => !(await WebhookDelivery.query(h.db).findById(orphan)), 15_000);
    expect(await WebhookDeliveryAttempt.query(h.db).where({ deliveryId: aged!.id })).toHaveLength(0);
    expect(await WebhookDelivery.query(h.db).where({ webhookId: hook.id })).toHaveLength(1); // the recent one stays
  });
});

describe('fan-out', () => {
  it("runs an event's deliveries in workflows of at most 100, every row named by exactly one", async () => {
    await h.db
      .transaction(async (trx) => {
        await Webhook.query(trx).insert(
          Array.from({ length: 101 }, (_, i) => ({
            url: `https://hooks.example.test/${i}`,
            eventTypes: ['*'],
            secret: 'whsec_AAAA',
          })) as Partial<Webhook>[],
        );
        await Webhook.query(trx).insert({
          url: 'https://hooks.example.test/other',
          eventTypes: ['ticket.deleted'],
          secret: 'whsec_AAAA',
        } as Partial<Webhook>);
        const event = await Event.query(trx).insert({
          id: 'evt_fanout',
          type: 'ticket.created',
          payload: { id: 'evt_fanout' },
        } as Partial<Event>);
        const dispatches = await queueDeliveries(trx, event);
        expect(dispatches.map((d) => [d.workflowId, d.deliveryIds.length]).sort()).toEqual([
          ['webhook-deliveries-evt_fanout', 100],
          ['webhook-deliveries-evt_fanout-1', 1],
        ]);
        const rows = await WebhookDelivery.query(trx).where({ eventId: 'evt_fanout' });
        expect(rows).toHaveLength(101);
        expect(new Set(dispatches.flatMap((d) => d.deliveryIds))).toEqual(new Set(rows.map((r) => r.id)));
        throw new Error('rollback');
      })
      .catch((err: Error) => expect(err.message).toBe('rollback'));
  });
});

describe('a retried write', () => {
  it('finds the deliveries its first run queued and never started, and queues none twice', async () => {
    const hook = await subscribe('https://hooks.example.test/x', ['ticket.created']);
    const admin = await User.query(h.db).findOne({ role: 'admin' });
    const input: TicketCreateInput = ticketCreateInput({ type: 'user', userId: admin!.id }, { title: 'Written twice' });
    const first = await insertTicketRecord(h.db, input);
    // the activity died after the commit: its retry finds the same workflow to start
    const again = await insertTicketRecord(h.db, input);
    expect(first.deliveries).toHaveLength(1);
    expect(again.deliveries).toEqual(first.deliveries);
    expect(await WebhookDelivery.query(h.db).where({ webhookId: hook.id })).toHaveLength(1);
    // once an attempt has touched it, a retry has nothing to start
    await WebhookDelivery.query(h.db)
      .patch({ attemptCount: 1 } as Partial<WebhookDelivery>)
      .where({ webhookId: hook.id });
    expect((await insertTicketRecord(h.db, input)).deliveries).toEqual([]);
  });
});

describe('SSRF at delivery time', () => {
  it('refuses loopback targets when private networks are not allowed, even by name, and does not retry', async () => {
    const strict = await startHarness({
      env: { DATABASE_URL: h.config.databaseUrl!, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false', WEBHOOK_RETRY_SCHEDULE: '0s,1s,1s' },
    });
    try {
      const r = await receiver();
      // written directly: the API refuses such URLs at creation (tested in webhook-subscriptions)
      // also IPv6 forms that embed 127.0.0.1 (IPv4-compatible, IPv4-translated, 6to4)
      const hooks = await Webhook.query(h.db)
        .insert(
          [
            `http://127.0.0.1:${r.port}/hooks`,
            `http://localhost:${r.port}/hooks`,
            `http://[::127.0.0.1]:${r.port}/hooks`,
            `http://[::ffff:0:127.0.0.1]:${r.port}/hooks`,
            `http://[2002:7f00:1::]:${r.port}/hooks`,
          ].map((url) => ({
            url,
            eventTypes: ['webhook.test'],
            secret: `whsec_${Buffer.alloc(32, 1).toString('base64')}`,
          })) as Partial<Webhook>[],
        )
        .returning('*');
      const token = (await signedIn(strict, 'admin')).token;
      for (const hook of hooks) {
        const res = await call(strict, 'POST', `/api/v1/webhooks/${hook.id}/test`, { token });
        expect(res.status).toBe(202);
        const delivery = await eventually(async () => {
          const d = await WebhookDelivery.query(h.db).findById(res.body.id);
          return d?.status !== 'pending' && d;
        });
        expect(delivery).toMatchObject({
          status: 'failed',
          attemptCount: 1,
          lastStatusCode: null,
          lastError: expect.stringMatching(/private, loopback or link-local/),
        });
      }
      // each delivery settled as failed before connecting (checked above): nothing reached the receiver
      expect(r.received).toHaveLength(0);
    } finally {
      await strict.stop();
    }
  });
});
