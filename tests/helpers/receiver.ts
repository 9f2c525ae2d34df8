/** A real webhook receiver on loopback: records every request, answers as the test says. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  at: number;
  path: string;
  headers: Record<string, string>;
  body: string;
}

export type Responder = (req: Received, res: http.ServerResponse) => void;

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** how the receiver answers from now on (default 200 "ok") */
  respond(responder: Responder): void;
  /** answer these status codes in turn, then `then` (default 200) */
  sequence(codes: number[], then?: number): void;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  let responder: Responder = (_r, res) => res.end('ok');
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = {
        at: Date.now(),
        path: req.url ?? '/',
        headers: req.headers as Record<string, string>,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(r);
      responder(r, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    port,
    received,
    respond(next) {
      responder = next;
    },
    sequence(codes, then = 200) {
      const queue = [...codes];
      responder = (_r, res) => res.writeHead(queue.shift() ?? then).end(`answer ${res.statusCode}`);
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
