/**
 * What the Koa side knows about a request that the SDK's Express handlers do not: the public origin
 * (PUBLIC_URL, or the request's own behind the trusted proxy). Keyed by the Node request object,
 * which Express shares with Koa.
 */
import type { IncomingMessage } from 'node:http';

const origins = new WeakMap<IncomingMessage, string>();

export function setRequestOrigin(req: IncomingMessage, origin: string): void {
  origins.set(req, origin);
}

export function requestOrigin(req: IncomingMessage): string {
  const origin = origins.get(req);
  if (!origin) throw new Error('request origin not recorded (OAuth handler reached outside oauthEndpoints)');
  return origin;
}
