/**
 * A worker process SIGKILLed while a delivery waits for its retry: the wait is a server-side timer,
 * so the next worker makes the attempt; exactly one success is recorded.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook, WebhookDelivery, WebhookDeliveryAttempt } from '../../src/models/index.js';
import { eventually } from '../helpers/eventually.js';
import { ensureSlaPolicies, signedIn } from '../helpers/factories.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';
import { kill, launch, workerEnv } from '../helpers/processes.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

let h: Harness;
let receiver: Receiver;
beforeAll(async () => {
  h = await startHarness({ scratch: 'webhook_crash', worker: false, env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' } });
  await ensureSlaPolicies(h.db);
  receiver = await startReceiver();
});
afterAll(async () => {
  await h?.worker?.stop();
  await receiver?.close();
  await h?.stop();
});

describe('a worker killed mid-retry', () => {
  it('the delivery still completes, with exactly one success recorded', async () => {
    const token = (await signedIn(h, 'admin')).token;
    const hook = (await call(h, 'POST', '/api/v1/webhooks', { token, body: { url: receiver.url, event_types: ['ticket.created'] } })).body;
    receiver.sequence([503]);
    const env = workerEnv(h, { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_RETRY_SCHEDULE: '0s,4s,1s' });
    let worker = launch('src/main/worker.ts', env);
    try {
      await worker.ready;
      expect((await call(h, 'POST', '/api/v1/tickets', { token, body: { title: 'Tell the world', priority: 'low' } })).status).toBe(201);
      const first = await eventually(async () => {
        const [d] = await WebhookDelivery.query(h.db).where({ webhookId: hook.id });
        return d && d.attemptCount === 1 && d;
      }, 30_000);
      await kill(worker.child);
      expect(first).toMatchObject({ status: 'pending', lastStatusCode: 503 });
      // the retry falls due while no worker runs
      await sleep(Math.max(0, first.nextAttemptAt!.getTime() + 1_000 - Date.now()));
      expect(receiver.received).toHaveLength(1);
      worker = launch('src/main/worker.ts', env);
      await worker.ready;
      const done = await eventually(async () => {
        const d = await WebhookDelivery.query(h.db).findById(first.id);
        return d!.status !== 'pending' && d;
      }, 30_000);
      expect(done).toMatchObject({ status: 'succeeded', attemptCount: 2, lastStatusCode: 200 });
      await sleep(1_500);
      const attempts = await WebhookDeliveryAttempt.query(h.db).where({ deliveryId: first.id }).orderBy('attempt_number');
      expect(attempts.map((a) => a.statusCode)).toEqual([503, 200]);
      expect(receiver.received).toHaveLength(2);
      expect(receiver.received[1]!.headers['webhook-id']).toBe(receiver.received[0]!.headers['webhook-id']);
    } finally {
      await kill(worker.child);
    }
  }, 120_000);
});

describe('a worker shut down mid-attempt', () => {
  it('abandons the attempt without recording it; the next worker delivers', async () => {
    const token = (await signedIn(h, 'admin')).token;
    await Webhook.query(h.db).delete();
    const hook = (await call(h, 'POST', '/api/v1/webhooks', { token, body: { url: receiver.url, event_types: ['webhook.test'] } })).body;
    receiver.received.length = 0;
    receiver.respond(() => undefined); // holds the attempt open
    const worker = await h.startWorker();
    const delivery = (await call(h, 'POST', `/api/v1/webhooks/${hook.id}/test`, { token })).body;
    await eventually(async () => receiver.received.length >= 1);
    const stopping = Date.now();
    await worker.stop(); // graceful: 10 s for tasks to finish, then activities are cancelled
    expect(Date.now() - stopping).toBeLessThan(20_000);
    expect(await WebhookDeliveryAttempt.query(h.db).where({ deliveryId: delivery.id })).toHaveLength(0);
    expect(await WebhookDelivery.query(h.db).findById(delivery.id)).toMatchObject({ status: 'pending', attemptCount: 0 });

    receiver.respond((_r, res) => res.end('ok'));
    await h.startWorker();
    const done = await eventually(async () => {
      const d = await WebhookDelivery.query(h.db).findById(delivery.id);
      return d!.status !== 'pending' && d;
    }, 60_000);
    expect(done).toMatchObject({ status: 'succeeded', attemptCount: 1 });
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[1]!.headers['webhook-id']).toBe(receiver.received[0]!.headers['webhook-id']);
  }, 120_000);
});
