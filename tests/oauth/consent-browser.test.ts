/**
 * The consent page in a real browser: Debian's Chromium, headless, driven by playwright-core (no
 * browser download). A user follows an MCP client's authorization link, signs in (a wrong password
 * first), allows, and the client receives its code under the page's CSP, exchanges it and calls a
 * tool; a second user denies. Skipped, with the reason, where no Chromium is installed
 * (`apt-get install chromium`; CHROMIUM_PATH overrides the path).
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../src/models/index.js';
import { createUser, PASSWORD } from '../helpers/factories.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { authorizeUrl, pkcePair, registerClient, tokenRequest } from '../helpers/oauth.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`consent-browser: skipped, no Chromium at ${CHROMIUM} (apt-get install chromium)`);

let h: Harness;
let browser: Browser;
let user: User;
let receiver: http.Server;
let callbackUrl: string;
/** Each redirect the "MCP client" received, in order. */
const callbacks: URLSearchParams[] = [];
let notify: (() => void) | null = null;

beforeAll(async () => {
  if (!haveChromium) return;
  h = await startHarness({ worker: false, env: { RATE_LIMIT_PER_MINUTE: '100000' } });
  user = await createUser(h.db, { role: 'manager' });
  receiver = http.createServer((req, res) => {
    callbacks.push(new URL(req.url!, 'http://127.0.0.1').searchParams);
    notify?.();
    res.setHeader('content-type', 'text/html');
    res.end('<p id="done">You can close this window.</p>');
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/callback`;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
});
afterAll(async () => {
  if (!haveChromium) return;
  await browser?.close();
  receiver?.close();
  await h?.stop();
});

/** Resolves with the next callback the client receives. */
function nextCallback(): Promise<URLSearchParams> {
  const seen = callbacks.length;
  return new Promise((resolve) => {
    notify = () => {
      if (callbacks.length > seen) resolve(callbacks[seen]!);
    };
  });
}

describe.skipIf(!haveChromium)('consent page in headless Chromium', () => {
  it('signs in (after a wrong password), allows, and the client gets a code it exchanges for tokens that call tools', async () => {
    const { body: client } = await registerClient(h.baseUrl, { client_name: 'Browser <b>Agent</b>', redirect_uris: [callbackUrl] });
    const pkce = pkcePair();
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      const response = await page.goto(
        authorizeUrl(h.baseUrl, {
          clientId: client.client_id,
          redirectUri: callbackUrl,
          challenge: pkce.challenge,
          state: 'xyz',
          resource: `${h.baseUrl}/mcp`,
        }),
      );
      expect(response!.status()).toBe(200);
      expect(page.url()).toContain('/oauth/consent?request=');
      // the client's name is text, never markup
      await expect(page.locator('h1').textContent()).resolves.toBe('Connect Browser <b>Agent</b> to ServiceMeow');
      expect(await page.locator('script').count()).toBe(0);
      expect(await page.locator('li').allTextContents()).toEqual([
        expect.stringContaining('tickets:read'),
        expect.stringContaining('tickets:write'),
        expect.stringContaining('admin'),
      ]);

      await page.fill('#username', user.username);
      await page.fill('#password', 'wrong password');
      await page.click('button[value=allow]');
      await expect(page.locator('[role=alert]').textContent()).resolves.toBe('Invalid username or password.');
      expect(await page.inputValue('#username')).toBe(user.username);

      const received = nextCallback();
      await page.fill('#password', PASSWORD);
      await page.click('button[value=allow]');
      const params = await received;
      await page.waitForSelector('#done');
      expect(params.get('state')).toBe('xyz');
      expect(params.get('iss')).toBe(h.baseUrl);
      const code = params.get('code')!;
      expect(code).toBeTruthy();

      const tokens = await tokenRequest(h.baseUrl, {
        grant_type: 'authorization_code',
        client_id: client.client_id,
        code,
        code_verifier: pkce.verifier,
        redirect_uri: callbackUrl,
        resource: `${h.baseUrl}/mcp`,
      });
      expect(tokens.status, tokens.text).toBe(200);
      // a manager asked for everything and got what a manager may hold
      expect(tokens.json.scope).toBe('tickets:read tickets:write');

      const mcp = new Client({ name: 'browser-test', version: '1.0.0' });
      await mcp.connect(
        new StreamableHTTPClientTransport(new URL(`${h.baseUrl}/mcp`), {
          requestInit: { headers: { Authorization: `Bearer ${tokens.json.access_token}` } },
        }),
      );
      const result = await mcp.callTool({ name: 'list_users', arguments: {} });
      expect(result.isError).toBeFalsy();
      await mcp.close();
    } finally {
      await context.close();
    }
  });

  it('a denial sends the user back to the client with access_denied and no code', async () => {
    const { body: client } = await registerClient(h.baseUrl, { client_name: 'Denied client', redirect_uris: [callbackUrl] });
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(
        authorizeUrl(h.baseUrl, { clientId: client.client_id, redirectUri: callbackUrl, challenge: pkcePair().challenge, state: 'no' }),
      );
      const received = nextCallback();
      await page.click('button[value=deny]');
      const params = await received;
      expect(params.get('error')).toBe('access_denied');
      expect(params.get('code')).toBeNull();
      expect(params.get('state')).toBe('no');
    } finally {
      await context.close();
    }
  });
});
