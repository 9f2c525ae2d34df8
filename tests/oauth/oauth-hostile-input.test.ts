/**
 * The MCP endpoint's authorization server under hostile input (issue 14, major 1: "no 500s from
 * input"): text PostgreSQL cannot store (NUL, lone surrogates) in any parameter of the token,
 * revocation, authorization and consent endpoints is a 4xx, never the SDK's `server_error` 500,
 * and nothing is stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, PASSWORD } from '../helpers/factories.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { authorizeUrl, form, openConsent, pkcePair, registerClient, tokenRequest } from '../helpers/oauth.js';

let h: Harness;
const REDIRECT = 'http://127.0.0.1:9/callback';
const BAD = ['a\u0000b', 'a\ud800b', '\udfff'];

beforeAll(async () => {
  h = await startHarness({ worker: false, env: { RATE_LIMIT_PER_MINUTE: '100000' } });
});
afterAll(() => h.stop());

const grants = async () => Number((await h.db('oauthGrants').count({ n: '*' }))[0]!.n);

describe('OAuth endpoints refuse unstorable text with a 4xx', () => {
  it('in the token and revocation requests (client_id, code, refresh_token, token)', async () => {
    for (const bad of BAD) {
      for (const [path, fields] of [
        ['/oauth/token', { grant_type: 'authorization_code', client_id: bad, code: bad, code_verifier: bad, redirect_uri: bad }],
        ['/oauth/token', { grant_type: 'refresh_token', client_id: bad, refresh_token: bad }],
        ['/oauth/revoke', { client_id: bad, token: bad }],
      ] as const) {
        const res = await form(h.baseUrl, path, fields);
        const label = `${path} ${JSON.stringify(fields)}`;
        expect(res.status, label).toBeGreaterThanOrEqual(400);
        expect(res.status, label).toBeLessThan(500);
        expect(res.json?.error, label).toEqual(expect.any(String));
        expect(res.json?.error, label).not.toBe('server_error');
      }
    }
    // a registered client's own requests with such a code or token are refused the same way
    const client = (await registerClient(h.baseUrl, { redirect_uris: [REDIRECT] })).body;
    for (const bad of BAD) {
      const code = await tokenRequest(h.baseUrl, {
        grant_type: 'authorization_code',
        client_id: client.client_id,
        code: bad,
        code_verifier: 'v'.repeat(43),
        redirect_uri: REDIRECT,
      });
      expect([code.status, code.json?.error]).toEqual([400, 'invalid_grant']);
      const revoke = await form(h.baseUrl, '/oauth/revoke', { client_id: client.client_id, token: bad });
      expect(revoke.status).toBeLessThan(500);
    }
  });

  it('in the authorization request and the consent form, before anything is stored', async () => {
    const before = await grants();
    const client = (await registerClient(h.baseUrl, { redirect_uris: [REDIRECT] })).body;
    const { challenge } = pkcePair();
    // (a URL or form cannot carry a lone surrogate: its bytes decode to U+FFFD; NUL it can)
    for (const bad of ['a\u0000b', '\u0000']) {
      for (const params of [
        { clientId: bad, redirectUri: REDIRECT, challenge },
        { clientId: client.client_id, redirectUri: REDIRECT, challenge: bad },
        { clientId: client.client_id, redirectUri: REDIRECT, challenge, state: bad },
      ]) {
        const url = authorizeUrl(h.baseUrl, params);
        const res = await fetch(url, { redirect: 'manual' });
        const label = url;
        expect(res.status, label).toBeGreaterThanOrEqual(300);
        expect(res.status, label).toBeLessThan(500);
        // never sent on to the consent page carrying the text
        expect(res.headers.get('location') ?? '', label).not.toMatch(/\/oauth\/consent/);
      }
    }
    // a signed consent request, then a form with NUL in the username or password
    const user = await createUser(h.db);
    const start = await fetch(authorizeUrl(h.baseUrl, { clientId: client.client_id, redirectUri: REDIRECT, challenge }), {
      redirect: 'manual',
    });
    expect(start.status).toBe(303);
    for (const [username, password] of [
      [`${user.username}\u0000`, PASSWORD],
      [user.username, `${PASSWORD}\u0000`],
    ]) {
      const page = await openConsent(h.baseUrl, start.headers.get('location')!);
      expect(page.status).toBe(200);
      const posted = await form(
        h.baseUrl,
        '/oauth/consent',
        { request: page.request, csrf: page.csrf, username, password, decision: 'allow' },
        { cookie: page.cookie, origin: h.baseUrl },
      );
      expect(posted.status, JSON.stringify(username)).toBe(400);
      expect(posted.text).toContain('cannot be stored');
    }
    expect(await grants()).toBe(before);
  });
});
