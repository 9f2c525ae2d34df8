/** Runs the Koa app on a port and closes it gracefully (in-flight requests finish, idle sockets close). */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createApp } from './app.js';
import { sweepOrphanUploads } from './commands/tickets/attachments.js';
import type { AppDeps } from './http/context.js';

export interface RunningHttpServer {
  server: http.Server;
  port: number;
  close(): Promise<void>;
}

/**
 * `sweepUploads`: the product's API processes remove orphaned upload files hourly. Off by default,
 * so a test's app never sweeps a directory whose rows live in another database.
 */
export async function startHttpServer(deps: AppDeps, port: number, host = '0.0.0.0', opts: { sweepUploads?: boolean } = {}): Promise<RunningHttpServer> {
  const app = createApp(deps);
  const server = http.createServer(app.callback());
  server.keepAliveTimeout = 65_000; // longer than common proxies' idle timeout
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => refuseUnparsable(err, socket, deps));
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
    close: async () => {
      clearInterval(sweeper);
      await app.shutdown(); // ends event streams so the server can close
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // long-lived responses (event streams) get a moment, then are cut
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
      });
    },
  };
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
  const body = JSON.stringify({ error: { code, message, details: null }, request_id: requestId });
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
  );
}
