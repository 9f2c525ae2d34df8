/**
 * Which delivery targets are refused unless WEBHOOK_ALLOW_PRIVATE_NETWORKS. Allow-list, not
 * block-list: an address passes only if ipaddr.js (which tracks the IANA special-purpose registries)
 * classes it as ordinary `unicast`. Every other range is refused — in IPv4 loopback, RFC 1918,
 * link-local (incl. the metadata address 169.254.169.254), 0.0.0.0/8, CGNAT 100.64/10, 198.18/15,
 * multicast, 240/4, documentation and broadcast; in IPv6 loopback, unspecified, ULA fc00::/7,
 * link-local fe80::/10, site-local fec0::/10, multicast, documentation, discard and the other
 * IETF-reserved blocks. The IPv6 forms that carry an IPv4 address inside them (IPv4-mapped
 * ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d, IPv4-translated ::ffff:0:a.b.c.d, NAT64
 * 64:ff9b::/96, 6to4 2002::/16, Teredo 2001::/32) are judged by every IPv4 address they embed, so
 * `[::127.0.0.1]` or `[2002:7f00:1::]` is as forbidden as 127.0.0.1 (public ones, such as the
 * addresses DNS64 synthesises, still pass); the local-use NAT64 prefix 64:ff9b:1::/48 is refused
 * like a private network. Checked on the URL at creation and again on the address actually
 * resolved at delivery time. URL hosts arrive normalised by the WHATWG parser, so decimal, octal
 * and hex IPv4 spellings (`http://2130706433/`, `http://0x7f.1/`) are judged as the dotted address
 * they mean.
 */
import ipaddr from 'ipaddr.js';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

const localNat64 = ipaddr.parseCIDR('64:ff9b:1::/48');

/** The IPv4 addresses an IPv6 address embeds (transition and translation forms); [] for none. */
export function embeddedIPv4(v6: ipaddr.IPv6): ipaddr.IPv4[] {
  const b = v6.toByteArray();
  const v4 = (at: number, xor = 0) => new ipaddr.IPv4(b.slice(at, at + 4).map((x) => x ^ xor));
  const firstZero = (n: number) => b.slice(0, n).every((x) => x === 0);
  switch (v6.range()) {
    case 'ipv4Mapped': // ::ffff:a.b.c.d
    case 'rfc6145': // ::ffff:0:a.b.c.d
    case 'rfc6052': // 64:ff9b::a.b.c.d
      return [v4(12)];
    case '6to4': // 2002:AABB:CCDD::/48
      return [v4(2)];
    case 'teredo': // 2001:0:server(32):flags:port:~client(32)
      return [v4(4), v4(12, 0xff)];
    default:
      // IPv4-compatible ::a.b.c.d (deprecated, RFC 4291 §2.5.5.1); `::` and `::1` are ranges of their own
      return firstZero(12) && v6.range() === 'unicast' ? [v4(12)] : [];
  }
}

/** True for an address no webhook may reach (unless private networks are allowed). */
export function isForbiddenAddress(address: string): boolean {
  const bare = address.replace(/%.*$/, ''); // a zone id does not change the range
  if (!isIP(bare)) return true; // not an address at all
  const parsed = ipaddr.parse(bare);
  if (parsed.kind() === 'ipv4') return parsed.range() !== 'unicast';
  const v6 = parsed as ipaddr.IPv6;
  if (v6.match(localNat64)) return true;
  const inner = embeddedIPv4(v6);
  if (inner.length) return inner.some((v4) => v4.range() !== 'unicast');
  return v6.range() !== 'unicast';
}

export type TargetCheck = { ok: true } | { ok: false; reason: string };

/** A URL a webhook may point at: http(s), no credentials, and (unless allowed) only public addresses. */
export async function checkTarget(raw: string, allowPrivate: boolean): Promise<TargetCheck> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not a URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, reason: 'only http and https URLs are allowed' };
  if (url.username || url.password)
    return { ok: false, reason: 'credentials in the URL are not allowed (use the signature to authenticate)' };
  if (allowPrivate) return { ok: true };
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  } catch {
    return { ok: false, reason: `the host ${host} does not resolve` };
  }
  const bad = addresses.find(isForbiddenAddress);
  return bad ? { ok: false, reason: `${host} resolves to ${bad}, a private, loopback or link-local address` } : { ok: true };
}
