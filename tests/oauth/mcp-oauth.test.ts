/**
 * The MCP endpoint as an OAuth 2.1 protected resource with ServiceMeow as its authorization server,
 * over real HTTP against the real app and database: the official SDK client configured with only
 * the server URL (discovery, dynamic registration, PKCE, consent, token exchange, tool calls), then
 * refresh rotation, revocation and deactivation, and the refusals (redirect URIs, PKCE, replayed
 * codes and refresh tokens, other resources, CSRF, scopes beyond the role).
 */
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  OAuthMetadataSchema,
  OAuthProtectedResourceMetadataSchema,
  type OAuthClientInformationMixed,
  type OAuthClientMetadata,
  type OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../../src/db/index.js';
import { freePort } from '../../src/dev/ports.js';
import { createLogger } from '../../src/logger.js';
import { User } from '../../src/models/index.js';
import { startHttpServer } from '../../src/server.js';
import { createApiKey, createGroup, createUser, PASSWORD } from '../helpers/factories.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';
import { authorizeUrl, consentFlow, form, openConsent, pkcePair, registerClient, tokenRequest } from '../helpers/oauth.js';

let h: Harness;
let agent: User;
const REDIRECT = 'http://127.0.0.1:9/callback';

beforeAll(async () => {
  h = await startHarness({ worker: false, env: { RATE_LIMIT_PER_MINUTE: '100000' } });
  agent = await createUser(h.db, { role: 'agent' });
  await createGroup(h.db, [agent]);
});
afterAll(() => h.stop());

/** An MCP client's OAuth state in memory; "the browser" is the scripted consent flow. */
class ScriptedProvider implements OAuthClientProvider {
  info?: OAuthClientInformationMixed;
  saved?: OAuthTokens;
  verifier = '';
  code?: string;
  constructor(private readonly user: { username: string; password: string }) {}
  get redirectUrl() {
    return REDIRECT;
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'SDK test client',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    };
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  async redirectToAuthorization(url: URL) {
    const done = await consentFlow(h.baseUrl, url.href, this.user);
    this.code = done.redirect?.searchParams.get('code') ?? undefined;
  }
  saveCodeVerifier(v: string) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
}

async function mcpWithBearer(token: string, base = h.baseUrl) {
  return fetch(`${base}/mcp`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
  });
}

/** Register, authorize as `user` and exchange the code: a fresh grant's tokens. */
async function grant(user: { username: string }, opts: { scope?: string } = {}) {
  const { body: client } = await registerClient(h.baseUrl, { redirect_uris: [REDIRECT] });
  const pkce = pkcePair();
  const done = await consentFlow(
    h.baseUrl,
    authorizeUrl(h.baseUrl, {
      clientId: client.client_id,
      redirectUri: REDIRECT,
      challenge: pkce.challenge,
      scope: opts.scope,
      resource: `${h.baseUrl}/mcp`,
    }),
    { username: user.username, password: PASSWORD },
  );
  const code = done.redirect!.searchParams.get('code')!;
  const tokens = await tokenRequest(h.baseUrl, {
    grant_type: 'authorization_code',
    client_id: client.client_id,
    code,
    code_verifier: pkce.verifier,
    redirect_uri: REDIRECT,
    resource: `${h.baseUrl}/mcp`,
  });
  expect(tokens.status, tokens.text).toBe(200);
  return { client, code, pkce, tokens: tokens.json as OAuthTokens };
}

describe('discovery', () => {
  it('answers an unauthenticated MCP call 401 with WWW-Authenticate naming the RFC 9728 metadata, which names the authorization server (RFC 8414)', async () => {
    const res = await fetch(`${h.baseUrl}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate')!;
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1];
    expect(metadataUrl).toBe(`${h.baseUrl}/.well-known/oauth-protected-resource/mcp`);

    const prm = OAuthProtectedResourceMetadataSchema.parse(await (await fetch(metadataUrl!)).json());
    expect(prm.resource).toBe(`${h.baseUrl}/mcp`);
    expect(prm.authorization_servers).toEqual([h.baseUrl]);
    expect(prm.scopes_supported).toEqual(['tickets:read', 'tickets:write', 'admin']);

    const as = OAuthMetadataSchema.parse(await (await fetch(`${h.baseUrl}/.well-known/oauth-authorization-server`)).json());
    expect(as.issuer).toBe(h.baseUrl);
    expect(as.code_challenge_methods_supported).toEqual(['S256']);
    expect(as.registration_endpoint).toBe(`${h.baseUrl}/oauth/register`);
    expect(as.revocation_endpoint).toBe(`${h.baseUrl}/oauth/revoke`);
    expect(as.grant_types_supported).toEqual(['authorization_code', 'refresh_token']);
  });
});

describe('the official MCP client with only the server URL', () => {
  it('registers, signs in with PKCE, exchanges the code and calls tools; the grant is narrowed to the role', async () => {
    const provider = new ScriptedProvider({ username: agent.username, password: PASSWORD });
    const url = new URL(`${h.baseUrl}/mcp`);
    const first = new Client({ name: 'oauth-test', version: '1.0.0' });
    await expect(first.connect(new StreamableHTTPClientTransport(url, { authProvider: provider }))).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    expect(provider.info?.client_id).toBeTruthy();
    expect(provider.code).toBeTruthy();

    const transport = new StreamableHTTPClientTransport(url, { authProvider: provider });
    await transport.finishAuth(provider.code!);
    // an agent asked for everything the server offers and got what an agent may hold
    expect(provider.saved?.scope).toBe('tickets:read tickets:write');
    expect(provider.saved?.access_token).toMatch(/^smat_/);

    const client = new Client({ name: 'oauth-test', version: '1.0.0' });
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain('create_ticket');
      const groups = await client.callTool({ name: 'list_groups', arguments: {} });
      expect(groups.isError).toBeFalsy();
      const tickets = await client.callTool({ name: 'list_tickets', arguments: {} });
      expect(tickets.isError).toBeFalsy();
    } finally {
      await client.close();
    }
  });

  it('keeps API keys working', async () => {
    const { plain } = await createApiKey(h.db, agent);
    const client = new Client({ name: 'oauth-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${h.baseUrl}/mcp`), { requestInit: { headers: { 'X-API-Key': plain } } }),
    );
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    await client.close();
  });

  it('a read-only grant sees only read-only tools', async () => {
    const { tokens } = await grant(agent, { scope: 'tickets:read' });
    expect(tokens.scope).toBe('tickets:read');
    const body = (await (await mcpWithBearer(tokens.access_token)).json()) as { result: { tools: { name: string }[] } };
    const names = body.result.tools.map((t: { name: string }) => t.name);
    expect(names).toContain('list_tickets');
    expect(names).not.toContain('create_ticket');
  });
});

describe('refresh, revocation and deactivation', () => {
  it('rotates refresh tokens; replaying a rotated one revokes the grant at once', async () => {
    const { client, tokens } = await grant(agent);
    const refreshed = await tokenRequest(h.baseUrl, {
      grant_type: 'refresh_token',
      client_id: client.client_id,
      refresh_token: tokens.refresh_token!,
    });
    expect(refreshed.status, refreshed.text).toBe(200);
    expect(refreshed.json.refresh_token).not.toBe(tokens.refresh_token);
    expect((await mcpWithBearer(refreshed.json.access_token)).status).toBe(200);

    const replay = await tokenRequest(h.baseUrl, {
      grant_type: 'refresh_token',
      client_id: client.client_id,
      refresh_token: tokens.refresh_token!,
    });
    expect(replay.status).toBe(400);
    expect(replay.json.error).toBe('invalid_grant');
    // the whole family: the newest access and refresh tokens too
    expect((await mcpWithBearer(refreshed.json.access_token)).status).toBe(401);
    const next = await tokenRequest(h.baseUrl, {
      grant_type: 'refresh_token',
      client_id: client.client_id,
      refresh_token: refreshed.json.refresh_token,
    });
    expect(next.json.error).toBe('invalid_grant');
  });

  it('a refresh token works only for its own client', async () => {
    const { tokens } = await grant(agent);
    const { body: other } = await registerClient(h.baseUrl);
    const res = await tokenRequest(h.baseUrl, {
      grant_type: 'refresh_token',
      client_id: other.client_id,
      refresh_token: tokens.refresh_token!,
    });
    expect(res.json.error).toBe('invalid_grant');
  });

  it('revocation (RFC 7009) stops the access and refresh tokens at once', async () => {
    const { client, tokens } = await grant(agent);
    expect((await mcpWithBearer(tokens.access_token)).status).toBe(200);
    const revoked = await form(h.baseUrl, '/oauth/revoke', { client_id: client.client_id, token: tokens.access_token });
    expect(revoked.status).toBe(200);
    const res = await mcpWithBearer(tokens.access_token);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    const refresh = await tokenRequest(h.baseUrl, {
      grant_type: 'refresh_token',
      client_id: client.client_id,
      refresh_token: tokens.refresh_token!,
    });
    expect(refresh.json.error).toBe('invalid_grant');
    // unknown tokens are not an error (RFC 7009 §2.2)
    expect((await form(h.baseUrl, '/oauth/revoke', { client_id: client.client_id, token: 'smat_nothing' })).status).toBe(200);
  });

  it("a deactivated user's tokens stop working at once and cannot be refreshed", async () => {
    const user = await createUser(h.db, { role: 'agent' });
    const { client, tokens } = await grant(user);
    expect((await mcpWithBearer(tokens.access_token)).status).toBe(200);
    await User.query(h.db).patch({ isActive: false }).where('id', user.id);
    expect((await mcpWithBearer(tokens.access_token)).status).toBe(401);
    const refresh = await tokenRequest(h.baseUrl, {
      grant_type: 'refresh_token',
      client_id: client.client_id,
      refresh_token: tokens.refresh_token!,
    });
    expect(refresh.json.error).toBe('invalid_grant');
  });

  it('REST does not take OAuth access tokens (they are bound to the MCP resource)', async () => {
    const { tokens } = await grant(agent);
    expect((await call(h, 'GET', '/api/v1/auth/me', { token: tokens.access_token })).status).toBe(401);
  });
});

describe('refusals', () => {
  it('refuses registrations with unsafe redirect URIs', async () => {
    for (const uri of ['http://evil.example/cb', 'javascript:alert(1)', 'https://ok.example/cb#frag', 'not a url']) {
      const res = await registerClient(h.baseUrl, { redirect_uris: [uri] });
      expect(res.status, uri).toBe(400);
      expect(['invalid_redirect_uri', 'invalid_client_metadata'], uri).toContain(res.body.error);
    }
    const ok = await registerClient(h.baseUrl, {
      redirect_uris: ['https://app.example/cb', 'http://localhost:3000/cb', 'cursor://oauth/cb'],
    });
    expect(ok.status).toBe(201);
    // public clients only: a request for a secret gets none
    const confidential = await registerClient(h.baseUrl, { token_endpoint_auth_method: 'client_secret_post' });
    expect(confidential.status).toBe(201);
    expect(confidential.body.client_secret).toBeUndefined();
    expect(confidential.body.token_endpoint_auth_method).toBe('none');
  });

  it('refuses an unregistered redirect URI without redirecting to it', async () => {
    const { body: client } = await registerClient(h.baseUrl);
    const res = await fetch(
      authorizeUrl(h.baseUrl, { clientId: client.client_id, redirectUri: 'https://evil.example/cb', challenge: pkcePair().challenge }),
      {
        redirect: 'manual',
      },
    );
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
  });

  it('requires PKCE with S256 at authorization', async () => {
    const { body: client } = await registerClient(h.baseUrl);
    for (const p of [
      { challenge: undefined },
      { challenge: pkcePair().challenge, method: 'plain' },
      { challenge: pkcePair().challenge, method: '' },
    ]) {
      const res = await fetch(authorizeUrl(h.baseUrl, { clientId: client.client_id, redirectUri: REDIRECT, ...p, state: 's1' }), {
        redirect: 'manual',
      });
      expect(res.status).toBe(302);
      const to = new URL(res.headers.get('location')!);
      expect(to.origin + to.pathname).toBe(REDIRECT);
      expect(to.searchParams.get('error')).toBe('invalid_request');
      // (the SDK's handler reads `state` only from a request that passed its checks, so it is not echoed here)
    }
  });

  it('refuses a missing or wrong code verifier, and a replayed code revokes what it was exchanged for', async () => {
    const { body: client } = await registerClient(h.baseUrl);
    const pkce = pkcePair();
    const done = await consentFlow(
      h.baseUrl,
      authorizeUrl(h.baseUrl, { clientId: client.client_id, redirectUri: REDIRECT, challenge: pkce.challenge }),
      {
        username: agent.username,
        password: PASSWORD,
      },
    );
    const code = done.redirect!.searchParams.get('code')!;
    expect(done.redirect!.searchParams.get('iss')).toBe(h.baseUrl);
    const base = { grant_type: 'authorization_code', client_id: client.client_id, code, redirect_uri: REDIRECT };
    const missing = await tokenRequest(h.baseUrl, base);
    expect(missing.status).toBe(400);
    expect(missing.json.error).toBe('invalid_request');
    const wrong = await tokenRequest(h.baseUrl, { ...base, code_verifier: pkcePair().verifier });
    expect(wrong.status).toBe(400);
    expect(wrong.json.error).toBe('invalid_grant');
    const other = await registerClient(h.baseUrl);
    const stolen = await tokenRequest(h.baseUrl, { ...base, client_id: other.body.client_id, code_verifier: pkce.verifier });
    expect(stolen.json.error).toBe('invalid_grant');

    const good = await tokenRequest(h.baseUrl, { ...base, code_verifier: pkce.verifier });
    expect(good.status, good.text).toBe(200);
    expect((await mcpWithBearer(good.json.access_token)).status).toBe(200);
    const replay = await tokenRequest(h.baseUrl, { ...base, code_verifier: pkce.verifier });
    expect(replay.status).toBe(400);
    expect(replay.json.error).toBe('invalid_grant');
    expect((await mcpWithBearer(good.json.access_token)).status).toBe(401);
  });

  it('refuses tokens for another resource: at authorization, at exchange, and at the MCP endpoint', async () => {
    const { body: client } = await registerClient(h.baseUrl);
    const res = await fetch(
      authorizeUrl(h.baseUrl, {
        clientId: client.client_id,
        redirectUri: REDIRECT,
        challenge: pkcePair().challenge,
        resource: 'https://other.example/mcp',
      }),
      { redirect: 'manual' },
    );
    expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('invalid_target');

    const pkce = pkcePair();
    const done = await consentFlow(
      h.baseUrl,
      authorizeUrl(h.baseUrl, { clientId: client.client_id, redirectUri: REDIRECT, challenge: pkce.challenge }),
      {
        username: agent.username,
        password: PASSWORD,
      },
    );
    const exchange = await tokenRequest(h.baseUrl, {
      grant_type: 'authorization_code',
      client_id: client.client_id,
      code: done.redirect!.searchParams.get('code')!,
      code_verifier: pkce.verifier,
      resource: 'https://other.example/mcp',
    });
    expect(exchange.json.error).toBe('invalid_target');

    // a token bound to http://127.0.0.1:port/mcp presented at http://localhost:port/mcp
    const { tokens } = await grant(agent);
    const elsewhere = await mcpWithBearer(tokens.access_token, h.baseUrl.replace('127.0.0.1', 'localhost'));
    expect(elsewhere.status).toBe(401);
    expect((await mcpWithBearer(tokens.access_token)).status).toBe(200);
  });

  it('refuses a consent form without its CSRF cookie or from another origin', async () => {
    const { body: client } = await registerClient(h.baseUrl);
    const start = await fetch(
      authorizeUrl(h.baseUrl, { clientId: client.client_id, redirectUri: REDIRECT, challenge: pkcePair().challenge }),
      {
        redirect: 'manual',
      },
    );
    const page = await openConsent(h.baseUrl, start.headers.get('location')!);
    expect(page.status).toBe(200);
    const fields = { request: page.request, csrf: page.csrf, username: agent.username, password: PASSWORD, decision: 'allow' };
    const noCookie = await form(h.baseUrl, '/oauth/consent', fields, { origin: h.baseUrl });
    expect(noCookie.status).toBe(403);
    const crossSite = await form(h.baseUrl, '/oauth/consent', fields, { origin: 'https://evil.example', cookie: page.cookie });
    expect(crossSite.status).toBe(403);
    const forged = await form(h.baseUrl, '/oauth/consent', { ...fields, request: `${page.request}x` }, { cookie: page.cookie });
    expect(forged.status).toBe(400);
    const ok = await form(h.baseUrl, '/oauth/consent', fields, { origin: h.baseUrl, cookie: page.cookie });
    expect(ok.status).toBe(303);
    expect(new URL(ok.headers.get('location')!).searchParams.get('code')).toBeTruthy();
  });

  it('a wrong password shows the form again; a denial and a scope beyond the role go back to the client as errors', async () => {
    const { body: client } = await registerClient(h.baseUrl);
    const url = (scope?: string) =>
      authorizeUrl(h.baseUrl, { clientId: client.client_id, redirectUri: REDIRECT, challenge: pkcePair().challenge, scope, state: 'st' });
    const wrong = await consentFlow(h.baseUrl, url(), { username: agent.username, password: 'not it' });
    expect(wrong.status).toBe(401);
    expect(wrong.redirect).toBeNull();
    expect(wrong.body).toContain('Invalid username or password.');

    const denied = await consentFlow(h.baseUrl, url(), { username: '', password: '', decision: 'deny' });
    expect(denied.redirect!.searchParams.get('error')).toBe('access_denied');
    expect(denied.redirect!.searchParams.get('state')).toBe('st');

    const tooMuch = await consentFlow(h.baseUrl, url('admin'), { username: agent.username, password: PASSWORD });
    expect(tooMuch.redirect!.searchParams.get('error')).toBe('invalid_scope');

    const unknown = await fetch(url('tickets:everything'), { redirect: 'manual' });
    expect(new URL(unknown.headers.get('location')!).searchParams.get('error')).toBe('invalid_scope');

    // other servers' scopes next to ours are ignored
    const mixed = await consentFlow(h.baseUrl, url('openid tickets:read'), { username: agent.username, password: PASSWORD });
    expect(mixed.redirect!.searchParams.get('code')).toBeTruthy();
  });

  it('answers malformed OAuth requests with OAuth errors, never a 500', async () => {
    const checks = [
      await fetch(`${h.baseUrl}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=password',
      }),
      await fetch(`${h.baseUrl}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{bad' }),
      await fetch(`${h.baseUrl}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{bad' }),
      await fetch(`${h.baseUrl}/oauth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: 'x' }),
      }),
      await fetch(`${h.baseUrl}/oauth/authorize?client_id=${'x'.repeat(5000)}`, { redirect: 'manual' }),
      await fetch(`${h.baseUrl}/oauth/consent`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'request=%zz',
      }),
      await fetch(`${h.baseUrl}/oauth/consent?request=garbage`),
      await fetch(`${h.baseUrl}/oauth/nothing`),
      await fetch(`${h.baseUrl}/.well-known/oauth-protected-resource/other`),
    ];
    for (const res of checks) {
      expect(res.status, `${res.url} ${res.status}`).toBeGreaterThanOrEqual(400);
      expect(res.status, res.url).toBeLessThan(500);
    }
  });
});

describe('database outage', () => {
  it('answers 503 temporarily_unavailable with Retry-After, never a 500', async () => {
    const db = createDb(`postgres://postgres@127.0.0.1:${await freePort()}/nowhere`);
    const server = await startHttpServer(
      { config: h.config, db, temporal: h.temporal.client, logger: createLogger('silent') },
      0,
      '127.0.0.1',
    );
    const base = `http://127.0.0.1:${server.port}`;
    try {
      const answers = [
        await fetch(`${base}/oauth/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ redirect_uris: [REDIRECT] }),
        }),
        await fetch(`${base}/oauth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=refresh_token&client_id=c&refresh_token=r',
        }),
        await fetch(authorizeUrl(base, { clientId: 'c', redirectUri: REDIRECT, challenge: pkcePair().challenge }), { redirect: 'manual' }),
      ];
      for (const res of answers) {
        expect([res.status, ((await res.json()) as { error: string }).error, res.headers.get('retry-after')], res.url).toEqual([
          503,
          'temporarily_unavailable',
          '5',
        ]);
      }
      expect((await mcpWithBearer('smat_whatever', base)).status).toBe(503);
    } finally {
      await server.close();
      await db.destroy();
    }
  });
});
