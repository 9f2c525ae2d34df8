import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { classify, delayBefore, parseRetryAfter } from '../../src/webhooks/retries.js';
import { generateSecret, signedHeaders } from '../../src/webhooks/signing.js';
import { checkTarget, isForbiddenAddress } from '../../src/webhooks/targets.js';
import { createHmac } from 'node:crypto';

describe('signing', () => {
  it('produces signatures the independent standardwebhooks implementation verifies', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const body = JSON.stringify({ id: 'evt_1', type: 'ticket.created', data: { ticket: { title: 'ünïcødé ✓' } } });
    const headers = signedHeaders(secret, 'msg_123', Date.now() / 1000, body);
    expect(new Webhook(secret).verify(body, headers)).toMatchObject({ id: 'evt_1' });
    // a changed body, id or stale timestamp fails
    expect(() => new Webhook(secret).verify(body + ' ', headers)).toThrow();
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'msg_124' })).toThrow();
    const old = signedHeaders(secret, 'msg_123', Date.now() / 1000 - 3600, body);
    expect(() => new Webhook(secret).verify(body, old)).toThrow();
    expect(() => new Webhook(generateSecret()).verify(body, headers)).toThrow();
  });

  it('adds the seed header: hex HMAC-SHA256 of the body with the same key', () => {
    const secret = generateSecret();
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    expect(signedHeaders(secret, 'm', 1, 'hello')['x-servicemeow-signature']).toBe(createHmac('sha256', key).update('hello').digest('hex'));
  });

  it('signs with a rotated-out secret too, as a second v1 signature either secret verifies', () => {
    const [current, previous] = [generateSecret(), generateSecret()];
    const body = '{"id":"evt_2"}';
    const headers = signedHeaders(current, 'evt_2', Date.now() / 1000, body, [previous]);
    expect(headers['webhook-signature']).toMatch(/^v1,\S+ v1,\S+$/);
    expect(new Webhook(current).verify(body, headers)).toMatchObject({ id: 'evt_2' });
    expect(new Webhook(previous).verify(body, headers)).toMatchObject({ id: 'evt_2' });
    expect(() => new Webhook(generateSecret()).verify(body, headers)).toThrow();
    // the seed header stays the current secret's alone
    expect(headers['x-servicemeow-signature']).toBe(signedHeaders(current, 'x', 1, body)['x-servicemeow-signature']);
  });
});

describe('targets', () => {
  it('refuses loopback, private, link-local, metadata, CGNAT, reserved and mapped addresses', () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '::1', '::', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', 'not-an-ip']) {
      expect(isForbiddenAddress(a), a).toBe(true);
    }
    for (const a of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8']) expect(isForbiddenAddress(a), a).toBe(false);
  });

  it('checks URLs: scheme, credentials, and the addresses a host resolves to', async () => {
    expect(await checkTarget('ftp://example.test/x', false)).toMatchObject({ ok: false });
    expect(await checkTarget('https://user:pw@example.test/', false)).toMatchObject({ ok: false });
    expect(await checkTarget('not a url', false)).toMatchObject({ ok: false });
    expect(await checkTarget('http://127.0.0.1:8080/hook', false)).toMatchObject({ ok: false, reason: expect.stringContaining('127.0.0.1') });
    expect(await checkTarget('http://[::1]/hook', false)).toMatchObject({ ok: false });
    expect(await checkTarget('http://localhost/hook', false)).toMatchObject({ ok: false });
    expect(await checkTarget('http://169.254.169.254/latest/meta-data', false)).toMatchObject({ ok: false });
    expect(await checkTarget('https://93.184.216.34/hook', false)).toEqual({ ok: true });
    expect(await checkTarget('http://127.0.0.1:8080/hook', true)).toEqual({ ok: true });
  });
});

describe('retries', () => {
  it('classifies responses', () => {
    expect([200, 204, 299].map(classify)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect([408, 429, 500, 503, null].map(classify)).toEqual(['retry', 'retry', 'retry', 'retry', 'retry']);
    expect([301, 302, 400, 401, 404, 422].map(classify)).toEqual(Array(6).fill('final'));
    expect(classify(410)).toBe('gone');
  });

  it('follows the schedule with ±10 % jitter, never sooner than Retry-After, and ends with it', () => {
    const schedule = [0, 5_000, 300_000];
    expect(delayBefore(schedule, 1, null, 0.5)).toBe(0);
    expect(delayBefore(schedule, 2, null, 0)).toBe(4_500);
    expect(delayBefore(schedule, 2, null, 0.999)).toBeLessThanOrEqual(5_500);
    expect(delayBefore(schedule, 2, 60_000, 0.5)).toBe(60_000);
    expect(delayBefore(schedule, 4, null, 0.5)).toBeNull();
    expect(parseRetryAfter('120', 0)).toBe(120_000);
    expect(parseRetryAfter(new Date(90_000).toUTCString(), 0)).toBe(90_000);
    expect(parseRetryAfter('soon', 0)).toBeNull();
    expect(parseRetryAfter(null, 0)).toBeNull();
  });
});
