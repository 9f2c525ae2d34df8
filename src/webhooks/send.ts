/**
 * One delivery attempt over HTTP(S): the signed body POSTed with a 15 s budget (of which at most
 * 5 s for the TCP connection, so an address that drops SYNs frees its slot early), redirects not
 * followed, at most 1 KiB of the response kept. Unless private networks are allowed, the address
 * the socket actually connects to is checked in the DNS lookup hook — so a host that resolves to a
 * private address at delivery time (DNS rebinding) is refused, not just the URL at creation.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isForbiddenAddress } from './targets.js';

export const ATTEMPT_TIMEOUT_MS = 15_000;
export const CONNECT_TIMEOUT_MS = 5_000;
export const RESPONSE_BODY_LIMIT = 1024;

export interface AttemptResult {
  /** null when no response came (refused, reset, timed out, forbidden address) */
  status: number | null;
  latencyMs: number;
  /** the first 1 KiB of the response body */
  body: string | null;
  retryAfter: string | null;
  error: string | null;
  /** the target is a private, loopback or link-local address (never retried) */
  forbidden?: boolean;
}

export class ForbiddenTargetError extends Error {
  override name = 'ForbiddenTargetError';
}

/** What a name resolves to: every address, as `dns.lookup(name, { all: true })` gives them. */
export type Resolver = (
  hostname: string,
  options: { family?: number; hints?: number },
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

const systemResolver: Resolver = (hostname, options, callback) => dnsLookup(hostname, { ...options, all: true }, callback);

/** A socket lookup over `resolve` that refuses forbidden addresses (the check runs on what the socket will connect to). */
export function guardedLookup(resolve: Resolver = systemResolver): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { family: typeof options.family === 'number' ? options.family : undefined, hints: options.hints }, (err, list) => {
      if (err) return callback(err, '', 0);
      const bad = list.find((a) => isForbiddenAddress(a.address));
      if (bad)
        return callback(
          new ForbiddenTargetError(`${hostname} resolves to ${bad.address}, a private, loopback or link-local address`),
          '',
          0,
        );
      if (!list.length) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    });
  };
}

export function sendAttempt(
  url: string,
  headers: Record<string, string>,
  body: string,
  opts: { allowPrivateNetworks: boolean; timeoutMs?: number; connectTimeoutMs?: number; signal?: AbortSignal; resolve?: Resolver },
): Promise<AttemptResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let settled = false;
    const timer: { deadline?: NodeJS.Timeout; connect?: NodeJS.Timeout } = {};
    const finish = (r: Omit<AttemptResult, 'latencyMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer.deadline);
      clearTimeout(timer.connect);
      resolve({ ...r, latencyMs: elapsed() });
    };
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return finish({ status: null, body: null, retryAfter: null, error: 'invalid URL' });
    }
    // a literal IP never goes through lookup: check it here
    const host = target.hostname.replace(/^\[|\]$/g, '');
    if (!opts.allowPrivateNetworks && isIP(host) && isForbiddenAddress(host)) {
      return finish({
        status: null,
        body: null,
        retryAfter: null,
        error: `${host} is a private, loopback or link-local address`,
        forbidden: true,
      });
    }
    const client = target.protocol === 'https:' ? https : http;
    const req = client.request(
      target,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'ServiceMeow-Webhooks/1',
          'content-length': Buffer.byteLength(body),
          ...headers,
        },
        ...(opts.allowPrivateNetworks ? {} : { lookup: guardedLookup(opts.resolve) }),
        ...(opts.signal ? { signal: opts.signal } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (chunk: Buffer) => {
          if (kept < RESPONSE_BODY_LIMIT) {
            chunks.push(chunk.subarray(0, RESPONSE_BODY_LIMIT - kept));
            kept += Math.min(chunk.length, RESPONSE_BODY_LIMIT - kept);
          }
          if (kept >= RESPONSE_BODY_LIMIT) res.destroy(); // the rest is never read
        });
        const done = () =>
          finish({
            status: res.statusCode ?? null,
            // PostgreSQL text cannot hold NUL: an endpoint answering binary must not break the record
            body: Buffer.concat(chunks).toString('utf8').replaceAll('\0', ''),
            retryAfter: typeof res.headers['retry-after'] === 'string' ? res.headers['retry-after'] : null,
            error: null,
          });
        res.on('end', done);
        res.on('close', done);
      },
    );
    // one budget for the whole exchange: connect, headers and the (truncated) body — a receiver
    // that drips bytes cannot hold an attempt open past it
    const budgetMs = opts.timeoutMs ?? ATTEMPT_TIMEOUT_MS;
    timer.deadline = setTimeout(() => req.destroy(new Error(`no response within ${budgetMs / 1000} s`)), budgetMs);
    // a shorter budget for the connection alone: an address that never answers the handshake is
    // given up early instead of holding a delivery slot for the whole budget
    const connectMs = Math.min(opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS, budgetMs);
    req.on('socket', (socket) => {
      if (!socket.connecting) return;
      timer.connect = setTimeout(() => req.destroy(new Error(`no connection within ${connectMs / 1000} s`)), connectMs);
      socket.once('connect', () => clearTimeout(timer.connect));
    });
    req.on('error', (err) =>
      finish({
        status: null,
        body: null,
        retryAfter: null,
        error: err.message,
        ...(err instanceof ForbiddenTargetError ? { forbidden: true } : {}),
      }),
    );
    req.end(body);
  });
}
