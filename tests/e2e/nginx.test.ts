/**
 * The nginx config of nginx/ run for real (Debian's nginx) in front of the real API on loopback:
 * TLS with the certificate the entrypoint script generates, proxying of /api/, /docs and /mcp,
 * the request-id hand-off, nginx's own errors in the API's envelope, the body limit, and an
 * event stream that arrives unbuffered.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, isListening } from '../../src/dev/ports.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { ensureSlaPolicies, signedIn } from '../helpers/factories.js';

const NGINX = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
// On CI nginx is installed by .ci/run, so a missing binary fails there rather than skipping.
const run = NGINX || process.env.CI ? describe : describe.skip;

const repo = path.resolve(import.meta.dirname, '../..');
let h: Harness;
let upstream: http.Server;
let nginx: ChildProcess;
let tmp: string;
let port: number;
let ca: Buffer;

/** The template rendered as the image's envsubst step does: only our variables are replaced. */
function render(template: string, vars: Record<string, string>): string {
  return template.replace(/\$\{([A-Z_]+)\}/g, (whole, name: string) => vars[name] ?? whole);
}

function request(
  method: string,
  urlPath: string,
  opts: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string; protocol: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, method, path: urlPath, headers: opts.headers, ca, servername: 'localhost' },
      (res) => {
        const protocol = (res.socket as tls.TLSSocket).getProtocol() ?? '';
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString(), protocol }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

run('nginx in front of the API', () => {
  beforeAll(async () => {
    if (!NGINX) throw new Error('nginx is not installed (apt-get install nginx-light); .ci/run installs it');
    h = await startHarness();
    await ensureSlaPolicies(h.db);
    // The upstream is the real app, plus a slow event stream to observe buffering.
    const app = h.http.server.listeners('request')[0] as http.RequestListener;
    upstream = http.createServer((req, res) => {
      if (req.url === '/api/v1/events/stream') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        res.write('event: first\ndata: 1\n\n');
        setTimeout(() => res.end('event: second\ndata: 2\n\n'), 1_500);
        return;
      }
      app(req, res);
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));

    tmp = await mkdtemp(path.join(os.tmpdir(), 'servicemeow-nginx-'));
    await chmod(tmp, 0o755);
    const certDir = path.join(tmp, 'certs');
    await promisify(execFile)('sh', [path.join(repo, 'nginx/docker-entrypoint.d/10-self-signed-cert.sh')], {
      env: { ...process.env, TLS_CERT_DIR: certDir },
    });
    ca = await readFile(path.join(certDir, 'server.crt'));

    // the body limit as the image derives it: here from MAX_UPLOAD_SIZE_MB=1, i.e. 2m
    const generated = path.join(tmp, 'generated');
    const { stdout } = await promisify(execFile)('sh', [path.join(repo, 'nginx/docker-entrypoint.d/15-upload-limit.sh')], {
      env: { ...process.env, NGINX_GENERATED_DIR: generated, MAX_UPLOAD_SIZE_MB: '1', CLIENT_MAX_BODY_SIZE: '' },
    });
    expect(stdout).toContain('nginx body limit: 2m');
    port = await freePort();
    const site = render(await readFile(path.join(repo, 'nginx/templates/servicemeow.conf.template'), 'utf8'), {
      API_UPSTREAM: `127.0.0.1:${(upstream.address() as AddressInfo).port}`,
      HTTPS_PORT: String(port),
      HTTP_PORT: String(await freePort()),
      TLS_CERT_DIR: certDir,
      NGINX_GENERATED_DIR: generated,
      MAX_UPLOAD_SIZE_MB: '1',
    });
    await mkdir(path.join(tmp, 'logs'));
    await writeFile(path.join(tmp, 'servicemeow.conf'), site);
    // The main file stands in for the image's /etc/nginx/nginx.conf, with paths inside tmp.
    await writeFile(
      path.join(tmp, 'nginx.conf'),
      `pid ${tmp}/nginx.pid;
error_log ${tmp}/logs/error.log warn;
events { worker_connections 256; }
http {
  access_log ${tmp}/logs/access.log;
  client_body_temp_path ${tmp}/body; proxy_temp_path ${tmp}/proxy;
  fastcgi_temp_path ${tmp}/fastcgi; uwsgi_temp_path ${tmp}/uwsgi; scgi_temp_path ${tmp}/scgi;
  include ${tmp}/servicemeow.conf;
}
`,
    );
    nginx = spawn(NGINX, ['-p', tmp, '-c', path.join(tmp, 'nginx.conf'), '-g', 'daemon off; master_process off;'], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    for (let i = 0; i < 100 && !(await isListening(port)); i++) await new Promise((r) => setTimeout(r, 100));
    if (!(await isListening(port)))
      throw new Error(`nginx did not start: ${await readFile(path.join(tmp, 'logs/error.log'), 'utf8').catch(() => '')}`);
  });

  afterAll(async () => {
    nginx?.kill('SIGQUIT');
    await new Promise((r) => (nginx?.exitCode === null ? nginx.once('exit', r) : r(null)));
    await new Promise((r) => upstream?.close(r));
    await h?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('serves the API over TLS with a certificate that verifies for localhost', async () => {
    const res = await request('GET', '/api/v1/health');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ status: 'ok' });
    expect(['TLSv1.2', 'TLSv1.3']).toContain(res.protocol);
    expect(res.headers['strict-transport-security']).toContain('max-age=');
  });

  it("hands the request id through: the caller's if given, else its own", async () => {
    expect((await request('GET', '/api/v1/health', { headers: { 'x-request-id': 'from-client-1' } })).headers['x-request-id']).toBe(
      'from-client-1',
    );
    expect((await request('GET', '/api/v1/health')).headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
  });

  it('proxies a whole ticket create (login, then POST) and the docs', async () => {
    const admin = await signedIn(h, 'admin');
    const created = await request('POST', '/api/v1/tickets', {
      headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Through the proxy' }),
    });
    expect(created.status).toBe(201);
    expect(JSON.parse(created.body).ticket_number).toMatch(/^ASM-/);
    const docs = await request('GET', '/docs');
    expect(docs.status).toBe(200);
    expect(docs.body).toContain('swagger-ui');
    expect((await request('GET', '/')).headers.location).toBe('/docs');
  });

  it('forwards /mcp to the API', async () => {
    // Without a key the MCP endpoint itself answers 401 in JSON-RPC terms: proof it got there.
    const res = await request('POST', '/mcp', { headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
    expect(res.headers['x-request-id']).toBeDefined();
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(JSON.parse(res.body)).toMatchObject({ jsonrpc: '2.0', error: { code: -32001 } });
  });

  it("refuses an oversize body itself, in the API's error envelope", async () => {
    const res = await request('POST', '/api/v1/tickets', {
      headers: { 'content-type': 'application/json' },
      body: Buffer.alloc(3 * 1024 * 1024, 'a'),
    });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error.code).toBe('payload_too_large');
  });

  it('answers unknown paths with a JSON 404', async () => {
    const res = await request('GET', '/wp-admin');
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body).error.code).toBe('not_found');
  });

  it('keeps /api/v1/metrics internal: nginx answers 404, the API itself serves it', async () => {
    const res = await request('GET', '/api/v1/metrics');
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body).error.code).toBe('not_found');
    expect((await fetch(`${h.baseUrl}/api/v1/metrics`)).status).toBe(200);
  });

  it('streams events without buffering', async () => {
    const firstChunkAfter = await new Promise<number>((resolve, reject) => {
      const started = Date.now();
      https
        .get({ host: '127.0.0.1', port, path: '/api/v1/events/stream', ca, servername: 'localhost' }, (res) => {
          res.once('data', () => resolve(Date.now() - started));
          res.resume();
        })
        .on('error', reject);
    });
    // The upstream holds the second event for 1.5 s: a buffering proxy would deliver nothing before it.
    expect(firstChunkAfter).toBeLessThan(1_000);
  });

  it('refuses plain HTTP on the TLS port', async () => {
    const res = await new Promise<number>((resolve) => {
      http.get({ host: '127.0.0.1', port, path: '/api/v1/health' }, (r) => resolve(r.statusCode!)).on('error', () => resolve(0));
    });
    expect(res).toBe(400); // nginx: "The plain HTTP request was sent to HTTPS port"
  });
});
