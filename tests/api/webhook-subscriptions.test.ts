/** Webhook subscriptions over HTTP: CRUD by admins and managers, the secret shown only at creation and rotation, SSRF refusals. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from '../../src/models/index.js';
import { createApiKey, signedIn } from '../helpers/factories.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';

// Active subscriptions receive every event of their database: this file keeps them to its own.
let h: Harness;
let admin: string;
let manager: string;
let agent: string;
beforeAll(async () => {
  h = await startHarness({ scratch: 'webhook_subscriptions', worker: false, env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' } });
  const [a, m, g] = await Promise.all([signedIn(h, 'admin'), signedIn(h, 'manager'), signedIn(h, 'agent')]);
  [admin, manager, agent] = [a.token, m.token, g.token];
});
afterAll(async () => {
  await h?.stop();
});

const PUBLIC_URL = 'https://93.184.216.34/hooks/servicemeow';

describe('webhook subscriptions', () => {
  it('admins and managers create, read, change and delete; the secret appears only at creation', async () => {
    expect((await call(h, 'POST', '/api/v1/webhooks', { token: agent, body: { url: PUBLIC_URL } })).status).toBe(403);
    const created = await call(h, 'POST', '/api/v1/webhooks', {
      token: manager,
      body: { url: PUBLIC_URL, event_types: ['ticket.created', 'ticket.sla_breached'], description: 'ops' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      url: PUBLIC_URL,
      event_types: ['ticket.created', 'ticket.sla_breached'],
      is_active: true,
      secret: expect.stringMatching(/^whsec_/),
    });
    const id = created.body.id;
    const read = await call(h, 'GET', `/api/v1/webhooks/${id}`, { token: admin });
    expect(read.body).not.toHaveProperty('secret');
    const list = await call(h, 'GET', '/api/v1/webhooks?page_size=100', { token: admin });
    expect(list.body.items.map((w: { id: string }) => w.id)).toContain(id);
    expect(JSON.stringify(list.body)).not.toContain(created.body.secret);
    expect(
      (await call(h, 'PATCH', `/api/v1/webhooks/${id}`, { token: admin, body: { event_types: ['*'], is_active: false } })).body,
    ).toMatchObject({ event_types: ['*'], is_active: false });
    expect((await call(h, 'PATCH', `/api/v1/webhooks/${id}`, { token: admin, body: {} })).status).toBe(422);
    expect((await call(h, 'DELETE', `/api/v1/webhooks/${id}`, { token: admin })).status).toBe(204);
    expect((await call(h, 'GET', `/api/v1/webhooks/${id}`, { token: admin })).status).toBe(404);
  });

  it('rotates the secret: the new one is returned once and replaces the old at once', async () => {
    const created = await call(h, 'POST', '/api/v1/webhooks', { token: admin, body: { url: PUBLIC_URL } });
    const rotated = await call(h, 'POST', `/api/v1/webhooks/${created.body.id}/rotate-secret`, { token: admin });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(created.body.secret);
    expect((await Webhook.query(h.db).findById(created.body.id))!.secret).toBe(rotated.body.secret);
  });

  it('refuses loopback, private, link-local and metadata targets, bad schemes and unknown event types', async () => {
    for (const url of [
      'http://127.0.0.1:9/x',
      'http://localhost/x',
      'http://10.0.0.5/x',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]/x',
      'http://192.168.1.1/x',
      // the IPv6 forms embedding a private IPv4 address, and IPv4 in other spellings
      'http://[::127.0.0.1]/x',
      'http://[::ffff:0:127.0.0.1]/x',
      'http://[2002:7f00:1::]/x',
      'http://[::ffff:10.0.0.1]/x',
      'http://[64:ff9b::a00:1]/x',
      'http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/x',
      'http://2130706433/x',
      'http://0x7f.1/x',
    ]) {
      const res = await call(h, 'POST', '/api/v1/webhooks', { token: admin, body: { url } });
      expect(res.status, url).toBe(422);
      expect(res.body.error.details[0].path).toBe('url');
    }
    for (const body of [
      { url: 'ftp://93.184.216.34/x' },
      { url: PUBLIC_URL, event_types: ['ticket.exploded'] },
      { url: PUBLIC_URL, event_types: [] },
      { url: PUBLIC_URL, secret: 'whsec_mine' },
    ]) {
      expect((await call(h, 'POST', '/api/v1/webhooks', { token: admin, body })).status, JSON.stringify(body)).toBe(422);
    }
    const created = await call(h, 'POST', '/api/v1/webhooks', { token: admin, body: { url: PUBLIC_URL } });
    expect(
      (await call(h, 'PATCH', `/api/v1/webhooks/${created.body.id}`, { token: admin, body: { url: 'http://127.0.0.1/x' } })).status,
    ).toBe(422);
  });

  it('needs the admin scope on API keys', async () => {
    const { user } = await signedIn(h, 'admin');
    const writer = (await createApiKey(h.db, user, ['tickets:write'])).plain;
    expect((await call(h, 'GET', '/api/v1/webhooks', { apiKey: writer })).status).toBe(403);
  });
});
