/** One delivery attempt against real receivers on loopback. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendAttempt, type Resolver } from '../../src/webhooks/send.js';
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
    expect(await sendAttempt(`${base}/x`, {}, '{}', { allowPrivateNetworks: false })).toMatchObject({
      status: null,
      forbidden: true,
      error: expect.stringMatching(/private|loopback/),
    });
    const port = (server.address() as AddressInfo).port;
    expect(await sendAttempt(`http://localhost:${port}/x`, {}, '{}', { allowPrivateNetworks: false })).toMatchObject({
      status: null,
      forbidden: true,
      error: expect.stringMatching(/resolves to/),
    });
    expect(received.length).toBe(before); // nothing reached the receiver
  });

  // a resolver that answers what an attacker's DNS would: every IPv6 form that embeds a loopback or
  // private address, and the special ranges themselves
  const EMBEDDED = [
    '::127.0.0.1',
    '::ffff:0:127.0.0.1',
    '::ffff:127.0.0.1',
    '2002:7f00:1::',
    '64:ff9b::7f00:1',
    '64:ff9b:1::808:808',
    '2001:0:4136:e378:8000:63bf:80ff:fffe',
    'fd00::1',
    'fe80::1',
    'fec0::1',
    '::',
    '100.64.0.1',
    '198.18.0.1',
    '0.0.0.0',
    '240.0.0.1',
  ];

  it.each(EMBEDDED)('refuses a name that resolves to %s, at lookup time, without connecting', async (address) => {
    const asked: string[] = [];
    const resolve: Resolver = (hostname, _opts, cb) => {
      asked.push(hostname);
      cb(null, [{ address, family: address.includes(':') ? 6 : 4 }]);
    };
    const before = received.length;
    const port = (server.address() as AddressInfo).port;
    const r = await sendAttempt(`http://hooks.example.test:${port}/x`, {}, '{}', { allowPrivateNetworks: false, resolve });
    expect(asked).toEqual(['hooks.example.test']); // the check ran in the socket's lookup
    expect(r).toMatchObject({
      status: null,
      forbidden: true,
      error: `hooks.example.test resolves to ${address}, a private, loopback or link-local address`,
    });
    expect(received.length).toBe(before);
  });

  it('refuses a name if any one of its addresses is forbidden; with private networks allowed the guard is off', async () => {
    const mixed: Resolver = (_h, _o, cb) =>
      cb(null, [
        { address: '93.184.216.34', family: 4 },
        { address: '::ffff:0:a00:1', family: 6 },
      ]);
    expect(await sendAttempt('http://hooks.example.test/x', {}, '{}', { allowPrivateNetworks: false, resolve: mixed })).toMatchObject({
      forbidden: true,
      error: expect.stringContaining('::ffff:0:a00:1'),
    });
    const lookups: string[] = [];
    const loopback: Resolver = (h, _o, cb) => {
      lookups.push(h);
      cb(null, [{ address: '127.0.0.1', family: 4 }]);
    };
    const port = (server.address() as AddressInfo).port;
    expect(await sendAttempt(`http://localhost:${port}/ok`, {}, '{}', { allowPrivateNetworks: true, resolve: loopback })).toMatchObject({
      status: 200,
    });
    expect(lookups).toEqual([]); // the system resolver connected it, unguarded
  });

  it.each([
    'http://[::127.0.0.1]:{port}/x',
    'http://[::ffff:0:127.0.0.1]:{port}/x',
    'http://[2002:7f00:1::]:{port}/x',
    'http://2130706433:{port}/x',
    'http://0x7f.1:{port}/x',
    'http://[64:ff9b::7f00:1]:{port}/x',
  ])('refuses the literal %s before connecting, as final', async (template) => {
    const before = received.length;
    const url = template.replace('{port}', String((server.address() as AddressInfo).port));
    expect(await sendAttempt(url, {}, '{}', { allowPrivateNetworks: false })).toMatchObject({
      status: null,
      forbidden: true,
      error: expect.stringMatching(/private, loopback or link-local/),
    });
    expect(received.length).toBe(before);
  });
});
