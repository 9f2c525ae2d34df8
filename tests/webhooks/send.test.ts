/** One delivery attempt against real receivers on loopback. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendAttempt } from '../../src/webhooks/send.js';
import { generateSecret, signedHeaders } from '../../src/webhooks/signing.js';

let server: http.Server;
let base: string;
const received: { headers: http.IncomingHttpHeaders; body: string }[] = [];
let respond: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_req, res) => res.end('ok');

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      respond(req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));

const allow = { allowPrivateNetworks: true };

describe('sendAttempt', () => {
  it('POSTs the signed body; the receiver verifies it with the standardwebhooks package', async () => {
    const secret = generateSecret();
    const body = JSON.stringify({ id: 'evt_1', type: 'webhook.test', data: {} });
    respond = (_req, res) => res.writeHead(204).end();
    const r = await sendAttempt(`${base}/hook`, { ...signedHeaders(secret, 'msg_1', Date.now() / 1000, body) }, body, allow);
    expect(r).toMatchObject({ status: 204, error: null });
    const got = received.at(-1)!;
    expect(got.body).toBe(body);
    expect(new Webhook(secret).verify(got.body, got.headers as Record<string, string>)).toMatchObject({ id: 'evt_1' });
  });

  it('does not follow redirects, keeps 1 KiB of the body, and reports Retry-After', async () => {
    respond = (_req, res) => res.writeHead(302, { location: 'http://169.254.169.254/' }).end();
    expect(await sendAttempt(`${base}/r`, {}, '{}', allow)).toMatchObject({ status: 302 });
    respond = (_req, res) => res.writeHead(500).end('x'.repeat(100_000));
    const big = await sendAttempt(`${base}/big`, {}, '{}', allow);
    expect(big.status).toBe(500);
    expect(big.body).toHaveLength(1024);
    respond = (_req, res) => res.writeHead(429, { 'retry-after': '7' }).end();
    expect(await sendAttempt(`${base}/slow-down`, {}, '{}', allow)).toMatchObject({ status: 429, retryAfter: '7' });
  });

  it('gives up after the timeout, and reports refused connections, as no response', async () => {
    respond = () => undefined; // never answers
    const r = await sendAttempt(`${base}/hang`, {}, '{}', { ...allow, timeoutMs: 300 });
    expect(r.status).toBeNull();
    expect(r.error).toMatch(/no response within/);
    const refused = await sendAttempt('http://127.0.0.1:9/', {}, '{}', allow);
    expect(refused).toMatchObject({ status: null });
    expect(refused.forbidden).toBeUndefined(); // an ordinary failure: retried
  });

  it('refuses private targets at connect time unless allowed: literal addresses and names that resolve to them', async () => {
    respond = (_req, res) => res.end('ok');
    const before = received.length;
    expect(await sendAttempt(`${base}/x`, {}, '{}', { allowPrivateNetworks: false })).toMatchObject({ status: null, forbidden: true, error: expect.stringMatching(/private|loopback/) });
    const port = (server.address() as AddressInfo).port;
    expect(await sendAttempt(`http://localhost:${port}/x`, {}, '{}', { allowPrivateNetworks: false })).toMatchObject({ status: null, forbidden: true, error: expect.stringMatching(/resolves to/) });
    expect(received.length).toBe(before); // nothing reached the receiver
  });
});
