import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { classify, delayBefore, parseRetryAfter } from '../../src/webhooks/retries.js';
import { generateSecret, signedHeaders } from '../../src/webhooks/signing.js';
import ipaddr from 'ipaddr.js';
import { busyWaitMs, slowWaitMs } from '../../src/webhooks/budget.js';
import { checkTarget, embeddedIPv4, isForbiddenAddress } from '../../src/webhooks/targets.js';
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

// [address, forbidden?, why] — every special range, and every IPv6 form that embeds an IPv4 address
const ADDRESSES: [string, boolean, string][] = [
  // IPv4 special ranges
  ['127.0.0.1', true, 'loopback'],
  ['127.255.0.9', true, 'loopback /8'],
  ['10.1.2.3', true, 'RFC 1918'],
  ['172.16.0.1', true, 'RFC 1918'],
  ['172.31.255.255', true, 'RFC 1918'],
  ['192.168.1.1', true, 'RFC 1918'],
  ['169.254.169.254', true, 'link-local / cloud metadata'],
  ['0.0.0.0', true, 'unspecified'],
  ['0.1.2.3', true, '0.0.0.0/8 ("this network")'],
  ['100.64.0.1', true, 'CGNAT 100.64/10'],
  ['100.127.255.254', true, 'CGNAT 100.64/10'],
  ['198.18.0.1', true, 'benchmarking 198.18/15'],
  ['198.19.255.1', true, 'benchmarking 198.18/15'],
  ['192.0.0.8', true, 'IETF protocol assignments'],
  ['192.0.2.1', true, 'documentation'],
  ['224.0.0.1', true, 'multicast 224/4'],
  ['239.255.255.250', true, 'multicast 224/4'],
  ['240.0.0.1', true, 'reserved 240/4'],
  ['255.255.255.255', true, 'broadcast'],
  // IPv6 special ranges
  ['::1', true, 'loopback'],
  ['::', true, 'unspecified'],
  ['fc00::1', true, 'ULA fc00::/7'],
  ['fd12:3456::1', true, 'ULA fc00::/7'],
  ['fe80::1', true, 'link-local fe80::/10'],
  ['fe80::1%eth0', true, 'link-local with a zone id'],
  ['febf::1', true, 'link-local fe80::/10 (upper end)'],
  ['fec0::1', true, 'site-local fec0::/10'],
  ['ff02::1', true, 'multicast'],
  ['2001:db8::1', true, 'documentation'],
  ['100::1', true, 'discard 100::/64'],
  ['2001:2::1', true, 'benchmarking'],
  // IPv4-mapped ::ffff:a.b.c.d
  ['::ffff:127.0.0.1', true, 'IPv4-mapped loopback'],
  ['::ffff:7f00:1', true, 'IPv4-mapped loopback, hex'],
  ['::ffff:10.0.0.1', true, 'IPv4-mapped private'],
  ['::ffff:169.254.169.254', true, 'IPv4-mapped metadata'],
  // IPv4-compatible ::a.b.c.d (deprecated)
  ['::127.0.0.1', true, 'IPv4-compatible loopback'],
  ['::7f00:1', true, 'IPv4-compatible loopback, hex'],
  ['::a9fe:a9fe', true, 'IPv4-compatible metadata'],
  ['::10.0.0.1', true, 'IPv4-compatible private'],
  // IPv4-translated ::ffff:0:a.b.c.d
  ['::ffff:0:127.0.0.1', true, 'IPv4-translated loopback'],
  ['::ffff:0:192.168.0.1', true, 'IPv4-translated private'],
  // NAT64
  ['64:ff9b::127.0.0.1', true, 'NAT64 loopback'],
  ['64:ff9b::a00:1', true, 'NAT64 private'],
  ['64:ff9b:1::808:808', true, 'local-use NAT64 prefix 64:ff9b:1::/48'],
  // 6to4 2002:AABB:CCDD::
  ['2002:7f00:1::', true, '6to4 of 127.0.0.1'],
  ['2002:a00:1::1', true, '6to4 of 10.0.0.1'],
  ['2002:a9fe:a9fe::1', true, '6to4 of the metadata address'],
  // Teredo 2001:0:<server>:<flags>:<port>:<client XOR ffff:ffff>
  ['2001:0:7f00:1::1', true, 'Teredo with a loopback server'],
  ['2001:0:4136:e378:8000:63bf:80ff:fffe', true, 'Teredo with client 127.0.0.1'],
  ['2001:0:4136:e378:8000:63bf:f5ff:fffe', true, 'Teredo with client 10.0.0.1'],
  // not addresses at all
  ['not-an-ip', true, 'a name'],
  ['0x7f.1', true, 'a non-canonical spelling (never a resolved address)'],
  ['', true, 'empty'],
  // public: allowed
  ['93.184.216.34', false, 'public IPv4'],
  ['8.8.8.8', false, 'public IPv4'],
  ['172.32.0.1', false, 'just outside 172.16/12'],
  ['100.128.0.1', false, 'just outside CGNAT'],
  ['2606:4700::1111', false, 'public IPv6'],
  ['::ffff:8.8.8.8', false, 'IPv4-mapped public'],
  ['64:ff9b::808:808', false, 'NAT64 of a public address (what DNS64 gives)'],
  ['2002:808:808::1', false, '6to4 of a public address'],
  ['2001:0:4136:e378:8000:63bf:f7f7:f7f7', false, 'Teredo between public addresses'],
];

describe('targets', () => {
  it.each(ADDRESSES)('%s → forbidden %s (%s)', (address, forbidden) => {
    expect(isForbiddenAddress(address)).toBe(forbidden);
  });

  it('finds the IPv4 addresses embedded in IPv6 transition forms', () => {
    const embedded = (a: string) => embeddedIPv4(ipaddr.IPv6.parse(a)).map(String);
    expect(embedded('::ffff:0:7f00:1')).toEqual(['127.0.0.1']);
    expect(embedded('2002:7f00:1::')).toEqual(['127.0.0.1']);
    expect(embedded('2001:0:4136:e378:8000:63bf:80ff:fffe')).toEqual(['65.54.227.120', '127.0.0.1']);
    expect(embedded('::7f00:1')).toEqual(['127.0.0.1']);
    expect(embedded('::1')).toEqual([]);
    expect(embedded('2606:4700::1111')).toEqual([]);
  });

  // URLs as users write them: the WHATWG parser turns every IPv4 spelling into the dotted address
  it.each([
    'http://127.0.0.1:8080/hook',
    'http://2130706433/',
    'http://0x7f.1/',
    'http://0x7f000001/',
    'http://017700000001/',
    'http://127.1/',
    'http://0/',
    'http://[::1]/hook',
    'http://[::127.0.0.1]/',
    'http://[::ffff:0:127.0.0.1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[2002:7f00:1::]/',
    'http://[64:ff9b::7f00:1]/',
    'http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/',
    'http://[fe80::1]/',
    'http://[fd00::1]/',
    'http://[fec0::1]/',
    'http://[ff02::1]/',
    'http://[::]/',
    'http://100.64.0.1/',
    'http://198.18.0.1/',
    'http://0.0.0.0/',
    'http://224.0.0.1/',
    'http://240.0.0.1/',
    'http://169.254.169.254/latest/meta-data',
    'http://localhost/hook',
  ])('refuses %s with private networks off', async (url) => {
    expect(await checkTarget(url, false)).toMatchObject({ ok: false, reason: expect.stringMatching(/private, loopback or link-local/) });
  });

  it('checks URLs: scheme, credentials, and the addresses a host resolves to', async () => {
    expect(await checkTarget('ftp://example.test/x', false)).toMatchObject({ ok: false });
    expect(await checkTarget('https://user:pw@example.test/', false)).toMatchObject({ ok: false });
    expect(await checkTarget('not a url', false)).toMatchObject({ ok: false });
    expect(await checkTarget('http://127.0.0.1:8080/hook', false)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('127.0.0.1'),
    });
    expect(await checkTarget('https://93.184.216.34/hook', false)).toEqual({ ok: true });
    expect(await checkTarget('https://[2606:4700::1111]/hook', false)).toEqual({ ok: true });
    expect(await checkTarget('https://[64:ff9b::808:808]/hook', false)).toEqual({ ok: true });
    expect(await checkTarget('http://127.0.0.1:8080/hook', true)).toEqual({ ok: true });
  });
});

describe('endpoint budget', () => {
  it('paces a deferred delivery: 500 ms doubling to 8 s, with ±50 % jitter', () => {
    expect([0, 1, 2, 3, 4, 5, 9].map((d) => busyWaitMs(d, 0.5))).toEqual([500, 1000, 2000, 4000, 8000, 8000, 8000]);
    expect(busyWaitMs(0, 0)).toBe(250);
    expect(busyWaitMs(9, 0.999)).toBeLessThan(12_000);
  });

  it('waits on a slow endpoint until its oldest attempt must have ended, between 1 and 5 s, ±10 %', () => {
    expect(slowWaitMs(15_000, 12_000, 0.5)).toBe(3_000);
    expect(slowWaitMs(15_000, 3_000, 0.5)).toBe(5_000);
    expect(slowWaitMs(15_000, 14_900, 0.5)).toBe(1_000);
    expect(slowWaitMs(15_000, 12_000, 0)).toBe(2_700);
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
