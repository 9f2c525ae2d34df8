/** Pure parts of the MCP authorization server: redirect URI rules, the signed consent request, CSRF, metadata shapes. */
import { OAuthMetadataSchema, OAuthProtectedResourceMetadataSchema } from '@modelcontextprotocol/sdk/shared/auth.js';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/env.js';
import { csrfTokenFor, csrfTokenMatches, signConsentRequest, verifyConsentRequest } from '../../src/oauth/consent-request.js';
import { authorizationServerMetadata, protectedResourceMetadata, publicOrigin } from '../../src/oauth/endpoints.js';
import { redirectUriProblem } from '../../src/oauth/provider.js';

const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'unit-test-secret-long-enough' });
const request = {
  clientId: 'c1',
  redirectUri: 'https://app.example/cb',
  codeChallenge: 'x'.repeat(43),
  scopes: [],
  resource: 'https://desk.example/mcp',
};

describe('redirect URIs a public client may register', () => {
  it.each([
    ['https://app.example/cb', null],
    ['http://127.0.0.1:5000/cb', null],
    ['http://localhost/cb', null],
    ['http://[::1]:8080/cb', null],
    ['com.example.app:/oauth', null],
    ['cursor://anysphere.cursor-mcp/oauth/callback', null],
    ['http://app.example/cb', 'must use https (http only on a loopback host)'],
    ['javascript:alert(1)', 'must not use the javascript: scheme'],
    ['data:text/html,hi', 'must not use the data: scheme'],
    ['https://app.example/cb#x', 'must not have a fragment'],
    ['/relative', 'is not an absolute URL'],
    [`https://app.example/${'a'.repeat(2000)}`, 'is longer than 2000 characters'],
  ])('%s', (uri, problem) => {
    expect(redirectUriProblem(uri)).toBe(problem);
  });
});

describe('the signed consent request', () => {
  it('round-trips, and refuses a tampered, foreign or expired value', () => {
    const signed = signConsentRequest(config, request);
    expect(verifyConsentRequest(config, signed)).toMatchObject(request);
    expect(verifyConsentRequest(config, `${signed.slice(0, -2)}xx`)).toBeNull();
    expect(verifyConsentRequest(loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'another-secret-long-enough' }), signed)).toBeNull();
    // a session access token (same secret, other audience) is not a consent request
    const access = jwt.sign({ r: request }, config.jwt.secret, { audience: config.jwt.audience, issuer: config.jwt.issuer });
    expect(verifyConsentRequest(config, access)).toBeNull();
    const expired = jwt.sign({ r: request, exp: Math.floor(Date.now() / 1000) - 1 }, config.jwt.secret, {
      audience: 'servicemeow-oauth-consent',
      issuer: config.jwt.issuer,
    });
    expect(verifyConsentRequest(config, expired)).toBeNull();
  });

  it('binds the CSRF token to the cookie and to the request', () => {
    const token = csrfTokenFor(config, 'cookie-a', 'request-1');
    expect(csrfTokenMatches(config, 'cookie-a', 'request-1', token)).toBe(true);
    expect(csrfTokenMatches(config, 'cookie-b', 'request-1', token)).toBe(false);
    expect(csrfTokenMatches(config, 'cookie-a', 'request-2', token)).toBe(false);
    expect(csrfTokenMatches(config, undefined, 'request-1', token)).toBe(false);
    expect(csrfTokenMatches(config, 'cookie-a', 'request-1', ['x'])).toBe(false);
  });
});

describe('metadata', () => {
  it('is valid by the SDK schemas and names one origin throughout', () => {
    const as = OAuthMetadataSchema.parse(authorizationServerMetadata('https://desk.example'));
    expect(as.issuer).toBe('https://desk.example');
    expect(as.token_endpoint).toBe('https://desk.example/oauth/token');
    const prm = OAuthProtectedResourceMetadataSchema.parse(protectedResourceMetadata('https://desk.example', '/mcp'));
    expect(prm).toMatchObject({ resource: 'https://desk.example/mcp', authorization_servers: ['https://desk.example'] });
  });

  it('takes PUBLIC_URL over the request origin', () => {
    expect(publicOrigin({ protocol: 'http', host: '10.0.0.5:8000' }, undefined)).toBe('http://10.0.0.5:8000');
    expect(publicOrigin({ protocol: 'http', host: '10.0.0.5:8000' }, 'https://desk.example')).toBe('https://desk.example');
    expect(loadConfig({ PUBLIC_URL: 'https://desk.example/' }).publicUrl).toBe('https://desk.example');
    expect(() => loadConfig({ PUBLIC_URL: 'https://desk.example/sub' })).toThrow(/PUBLIC_URL/);
    expect(() => loadConfig({ PUBLIC_URL: 'ftp://desk.example' })).toThrow(/PUBLIC_URL/);
  });
});
