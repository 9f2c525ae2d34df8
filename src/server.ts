/** Runs the Koa app on a port and shuts it down gracefully (see `close`). */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createApp } from './app.js';
import { sweepOrphanUploads } from './commands/tickets/attachments.js';
import type { AppDeps } from './http/context.js';

/**
 * How long in-flight requests get to finish on shutdown: longer than the API's own wait for a
 * worker's confirmation (10 s, then a 202 or 503), with a margin. Orchestrators must allow more
 * than this before they kill the process (docker-compose: `stop_grace_period`).
 */
export const SHUTDOWN_GRACE_MS = 20_000;

/** After the grace period, how long handlers whose connection was cut may still run. */
const HANDLER_AFTERLIFE_MS = 5_000;

export interface RunningHttpServer {
  server: http.Server;
  port: number;
  /** requests whose handler is still running */
  readonly inFlight: number;
  /**
   * Graceful stop, in order: stop accepting connections (new ones are refused, idle kept-alive ones
   * closed, every response from now on says `Connection: close`); end event streams with a final
   * event; let in-flight requests finish (up to `graceMs`, then the remaining connections are cut).
   * Resolves once no handler runs any more, so the caller may then close the clients and pools
   * those handlers use.
   */
  close(opts?: { graceMs?: number }): Promise<void>;
}

/**
 * `sweepUploads`: the product's API processes remove orphaned upload files hourly. Off by default,
 * so a test's app never sweeps a directory whose rows live in another database.
 */
export async function startHttpServer(
  deps: AppDeps,
  port: number,
  host = '0.0.0.0',
  opts: { sweepUploads?: boolean } = {},
): Promise<RunningHttpServer> {
  const app = createApp(deps);
  const handle = app.callback();
  const responses = new Set<http.ServerResponse>(); // whose handler still runs
  let idle: (() => void) | null = null;
  let draining = false;
  const server = http.createServer((req, res) => {
    if (draining) res.setHeader('Connection', 'close');
    responses.add(res);
    void Promise.resolve(handle(req, res)).finally(() => {
      responses.delete(res);
      if (responses.size === 0) idle?.();
    });
  });
  server.keepAliveTimeout = 65_000; // longer than common proxies' idle timeout
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => refuseUnparsable(err, socket, deps));
  // CONNECT never reaches a request handler (Node hands over the raw socket, or drops it when nobody
  // listens): it is a method the API does not implement, answered like any other.
  server.on('connect', (req: http.IncomingMessage, socket: Duplex) => refuseConnect(req, socket, deps));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  // Files whose recording never happened (a crash between storing and recording): hourly.
  const sweep = () =>
    sweepOrphanUploads(deps.db, deps.config.uploads.dir)
      .then((removed) => removed && deps.logger.info({ removed }, 'removed orphaned upload files'))
      .catch((err: unknown) => deps.logger.warn({ err }, 'upload sweep failed'));
  const sweeper = opts.sweepUploads ? setInterval(sweep, 60 * 60 * 1000).unref() : undefined;
  if (opts.sweepUploads) setTimeout(sweep, 10_000).unref();
  return {
    server,
    port: (server.address() as AddressInfo).port,
    get inFlight() {
      return responses.size;
    },
    close: async ({ graceMs = SHUTDOWN_GRACE_MS } = {}) => {
      clearInterval(sweeper);
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve())); // also closes idle connections
      for (const res of responses) if (!res.headersSent) res.setHeader('Connection', 'close');
      const started = Date.now();
      await app.shutdown(); // ends event streams (a final `close` event) so their connections end
      const handlersDone = new Promise<void>((resolve) => {
        idle = resolve;
        if (responses.size === 0) resolve();
      });
      const left = Math.max(0, graceMs - (Date.now() - started));
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'grace over'>((resolve) => (timer = setTimeout(() => resolve('grace over'), left)));
      if ((await Promise.race([Promise.all([closed, handlersDone]), graceOver])) === 'grace over') {
        deps.logger.warn({ inFlight: responses.size }, 'shutdown grace period over: closing the remaining connections');
        server.closeAllConnections();
        // A cut connection does not stop its handler: let it end before pools close (bounded).
        await Promise.race([handlersDone, new Promise((resolve) => setTimeout(resolve, HANDLER_AFTERLIFE_MS).unref())]);
      }
      clearTimeout(timer);
      await closed;
    },
  };
}

/** 501 envelope for CONNECT (a tunnel request): one JSON log line, then the connection ends. */
function refuseConnect(req: http.IncomingMessage, socket: Duplex, deps: AppDeps): void {
  socket.on('error', () => socket.destroy());
  const requestId = randomUUID();
  deps.logger.info({ request_id: requestId, method: req.method, url: req.url, status: 501 }, 'request');
  writeEnvelope(socket, 501, requestId, 'not_implemented', 'CONNECT is not implemented; this is not a proxy.');
}

function writeEnvelope(socket: Duplex, status: number, requestId: string, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message, details: null }, request_id: requestId });
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * A request Node's HTTP parser refuses (an unknown method, NUL in a header, a broken chunk) never
 * reaches Koa: it still gets the error envelope and one JSON log line, not a bare 400.
 */
function refuseUnparsable(err: NodeJS.ErrnoException, socket: Duplex, deps: AppDeps): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const requestId = randomUUID();
  const [status, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'headers_too_large', 'The request headers are too large.']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request_timeout', 'The request was not received in time.']
        : [400, 'bad_request', 'The request is not valid HTTP/1.1 (method, header or framing).'];
  deps.logger.info({ request_id: requestId, status, parser_error: err.code }, 'request refused by the HTTP parser');
  writeEnvelope(socket, status, requestId, code, message);
}
