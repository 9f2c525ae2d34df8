/**
 * A scripted OAuth client for the MCP endpoint's authorization server: registration, PKCE, the
 * consent form filled in over plain HTTP (as a browser would: cookie, hidden fields, Origin), and
 * the token endpoint.
 */
import { createHash, randomBytes } from 'node:crypto';

export const pkcePair = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

export async function form(
  baseUrl: string,
  path: string,
  fields: Record<string, string | undefined>,
  headers: Record<string, string> = {},
) {
  const body = new URLSearchParams(Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined));
  const res = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
    redirect: 'manual',
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    // HTML or empty
  }
  return { status: res.status, headers: res.headers, text, json };
}

export async function registerClient(baseUrl: string, metadata: Record<string, unknown> = {}) {
  const res = await fetch(`${baseUrl}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'Test client', redirect_uris: ['http://127.0.0.1:9/callback'], ...metadata }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

const unescape = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** The consent page's hidden fields and the CSRF cookie it set. */
export async function openConsent(baseUrl: string, consentUrl: string) {
  const res = await fetch(new URL(consentUrl, baseUrl), { redirect: 'manual' });
  const html = await res.text();
  const hidden = (name: string) => {
    const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
    return m ? unescape(m[1]!) : undefined;
  };
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .join('; ');
  return { status: res.status, html, request: hidden('request'), csrf: hidden('csrf'), cookie };
}

export interface AuthorizeParams {
  clientId: string;
  redirectUri?: string;
  challenge?: string;
  method?: string;
  scope?: string;
  state?: string;
  resource?: string;
}

export function authorizeUrl(baseUrl: string, p: AuthorizeParams): string {
  const url = new URL('/oauth/authorize', baseUrl);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', p.clientId);
  if (p.redirectUri) url.searchParams.set('redirect_uri', p.redirectUri);
  if (p.challenge) url.searchParams.set('code_challenge', p.challenge);
  if (p.method !== '') url.searchParams.set('code_challenge_method', p.method ?? 'S256');
  if (p.scope !== undefined) url.searchParams.set('scope', p.scope);
  if (p.state) url.searchParams.set('state', p.state);
  if (p.resource) url.searchParams.set('resource', p.resource);
  return url.href;
}

/**
 * Walk /oauth/authorize → the consent page → the form post, as a user who signs in and allows.
 * Returns the final redirect (to the client), whatever it carries (code or error).
 */
export async function consentFlow(
  baseUrl: string,
  authorizationUrl: string,
  user: { username: string; password: string; decision?: string },
) {
  const start = await fetch(authorizationUrl, { redirect: 'manual' });
  const location = start.headers.get('location');
  if (start.status !== 303 || !location?.includes('/oauth/consent')) {
    return { redirect: location ? new URL(location) : null, status: start.status, body: await start.text() };
  }
  const page = await openConsent(baseUrl, location);
  const posted = await form(
    baseUrl,
    '/oauth/consent',
    { request: page.request, csrf: page.csrf, username: user.username, password: user.password, decision: user.decision ?? 'allow' },
    { cookie: page.cookie, origin: baseUrl },
  );
  const to = posted.headers.get('location');
  return { redirect: to ? new URL(to) : null, status: posted.status, body: posted.text };
}

export async function tokenRequest(baseUrl: string, fields: Record<string, string | undefined>) {
  return form(baseUrl, '/oauth/token', fields);
}
