/**
 * The consent page: the user signs in with their ServiceMeow username and password and allows (or
 * denies) the client. Server-rendered HTML without script; the form is CSRF-protected (a SameSite
 * cookie and an HMAC of it bound to the request, plus the Origin check), sign-in failures are
 * throttled like REST's login, and the granted scopes are the requested ones narrowed to the role.
 */
import { randomBytes } from 'node:crypto';
import escapeHtml from 'escape-html';
import type { ParameterizedContext } from 'koa';
import { koaBody } from 'koa-body';
import type { OAuthClientInformationFull } from '@modelcontextprotocol/sdk/shared/auth.js';
import { checkCredentials } from '../commands/sign-in.js';
import type { AppState, RouteDeps } from '../http/context.js';
import { findUnstorableText } from '../http/storable-text.js';
import { grantableScopes } from '../policies/index.js';
import { csrfTokenFor, csrfTokenMatches, verifyConsentRequest, type ConsentRequest } from './consent-request.js';
import { CONSENT_PATH } from './paths.js';
import { createGrantWithCode, type ServiceMeowOAuthProvider } from './provider.js';

type Ctx = ParameterizedContext<AppState>;

const CSRF_COOKIE = 'servicemeow_oauth_csrf';

const SCOPE_TEXT: Record<string, string> = {
  'tickets:read': 'read tickets, notes, users, groups and dashboards you can see',
  'tickets:write': 'create, update, assign and resolve tickets you can work on',
  admin: 'administer ServiceMeow (users, groups, keys, webhooks, SLA policies)',
};

/** CSP form-action must allow where the form's answer redirects (Chromium checks redirects too). */
function formActionSource(redirectUri: string): string {
  const url = new URL(redirectUri);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : url.protocol;
}

function page(ctx: Ctx, status: number, title: string, body: string, redirectUri?: string): void {
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.set('Cache-Control', 'no-store');
  ctx.set('X-Frame-Options', 'DENY');
  // not `no-referrer`: Chromium then sends `Origin: null` with the form, which the CSRF check refuses
  ctx.set('Referrer-Policy', 'same-origin');
  ctx.set(
    'Content-Security-Policy',
    `default-src 'none'; style-src 'unsafe-inline'; form-action 'self'${redirectUri ? ` ${formActionSource(redirectUri)}` : ''}; frame-ancestors 'none'; base-uri 'none'`,
  );
  ctx.body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · ServiceMeow</title>
<style>
body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;padding:2rem 1rem;color:#1f2328}
main{max-width:26rem;margin:0 auto;background:#fff;border-radius:8px;padding:1.5rem 2rem;box-shadow:0 1px 3px #0002}
h1{font-size:1.3rem}label{display:block;margin:.8rem 0 .2rem}input{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem}
.buttons{display:flex;gap:.5rem;margin-top:1.2rem}button{flex:1;padding:.6rem;font-size:1rem;border-radius:6px;border:1px solid #888;cursor:pointer}
button[value=allow]{background:#1f6feb;color:#fff;border-color:#1f6feb}.error{color:#b42318;font-weight:600}small{color:#555}
</style></head><body><main>${body}</main></body></html>`;
}

function problemPage(ctx: Ctx, status: number, message: string): void {
  page(ctx, status, 'Cannot continue', `<h1>Cannot continue</h1><p class="error" role="alert">${escapeHtml(message)}</p>`);
}

function consentForm(
  ctx: Ctx,
  deps: RouteDeps,
  status: number,
  r: ConsentRequest,
  requestValue: string,
  client: OAuthClientInformationFull,
  error?: string,
  username = '',
): void {
  // A fresh CSRF cookie each time the form is shown; the form's token is bound to it and to the request.
  const cookie = randomBytes(32).toString('base64url');
  const secure = ctx.protocol === 'https';
  ctx.cookies.secure = secure;
  ctx.cookies.set(CSRF_COOKIE, cookie, {
    httpOnly: true,
    sameSite: 'strict',
    secure,
    path: CONSENT_PATH,
    maxAge: 10 * 60_000,
    overwrite: true,
  });
  const name = client.client_name || client.client_id;
  const scopes = r.scopes.length ? r.scopes : ['tickets:read', 'tickets:write', 'admin'];
  const target = new URL(r.redirectUri);
  const returnTo = target.protocol === 'http:' || target.protocol === 'https:' ? target.host : target.protocol.slice(0, -1);
  const html = `<h1>Connect ${escapeHtml(name)} to ServiceMeow</h1>
<p><strong>${escapeHtml(name)}</strong> asks to use ServiceMeow's MCP server as you, to:</p>
<ul>${scopes.map((s) => `<li><code>${escapeHtml(s)}</code>: ${escapeHtml(SCOPE_TEXT[s] ?? s)}</li>`).join('')}</ul>
<p><small>Never more than your role allows. After signing in you return to <strong>${escapeHtml(returnTo)}</strong>.</small></p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="${CONSENT_PATH}">
<input type="hidden" name="request" value="${escapeHtml(requestValue)}">
<input type="hidden" name="csrf" value="${escapeHtml(csrfTokenFor(deps.config, cookie, requestValue))}">
<label for="username">Username</label><input id="username" name="username" autocomplete="username" required value="${escapeHtml(username)}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<div class="buttons"><button type="submit" name="decision" value="deny" formnovalidate>Deny</button><button type="submit" name="decision" value="allow">Sign in and allow</button></div>
</form>`;
  page(ctx, status, `Connect ${name}`, html, r.redirectUri);
}

/** The authorization response (RFC 6749 §4.1.2, with `iss` per RFC 9207), as a 303 to the client. */
function redirectToClient(ctx: Ctx, r: ConsentRequest, origin: string, params: Record<string, string>): void {
  const url = new URL(r.redirectUri);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  if (r.state !== undefined) url.searchParams.set('state', r.state);
  url.searchParams.set('iss', origin);
  ctx.cookies.set(CSRF_COOKIE, null, { path: CONSENT_PATH });
  ctx.set('Cache-Control', 'no-store');
  ctx.status = 303;
  ctx.redirect(url.href);
}

const EXPIRED = 'This authorization link is not valid or has expired (after 10 minutes). Start the connection again from your MCP client.';

export function consentHandlers(deps: RouteDeps, provider: ServiceMeowOAuthProvider) {
  const parseForm = koaBody({ urlencoded: true, json: false, text: false, multipart: false, formLimit: '32kb' });

  // The request was checked against the client when it was signed; the client may have gone since.
  async function clientOf(r: ConsentRequest): Promise<OAuthClientInformationFull | null> {
    return (await provider.clientsStore.getClient(r.clientId)) ?? null;
  }

  return {
    async show(ctx: Ctx): Promise<void> {
      const value = typeof ctx.query.request === 'string' ? ctx.query.request : '';
      const r = verifyConsentRequest(deps.config, value);
      if (!r) return problemPage(ctx, 400, EXPIRED);
      const client = await clientOf(r);
      if (!client) return problemPage(ctx, 400, 'The client that started this authorization is no longer registered.');
      consentForm(ctx, deps, 200, r, value, client);
    },

    async submit(ctx: Ctx, origin: string): Promise<void> {
      try {
        await parseForm(ctx, async () => undefined);
      } catch (err) {
        const tooLarge = (err as { status?: number }).status === 413;
        return problemPage(ctx, tooLarge ? 413 : 400, tooLarge ? 'The form is too large.' : 'The form could not be read.');
      }
      const form = (ctx.request.body ?? {}) as Record<string, unknown>;
      const unstorable = findUnstorableText(form, 'form');
      if (unstorable.length) return problemPage(ctx, 400, `The form field ${unstorable[0]!.path} ${unstorable[0]!.message}.`);
      const field = (name: string) => (typeof form[name] === 'string' ? (form[name] as string) : '');
      const value = field('request');
      const r = verifyConsentRequest(deps.config, value);
      if (!r) return problemPage(ctx, 400, EXPIRED);
      const sentFrom = ctx.get('Origin');
      if ((sentFrom && sentFrom !== origin) || !csrfTokenMatches(deps.config, ctx.cookies.get(CSRF_COOKIE), value, form.csrf)) {
        return problemPage(
          ctx,
          403,
          'This form was not sent from the ServiceMeow sign-in page it belongs to (or its cookie expired). Start the connection again from your MCP client.',
        );
      }
      const client = await clientOf(r);
      if (!client) return problemPage(ctx, 400, 'The client that started this authorization is no longer registered.');
      if (field('decision') !== 'allow') {
        return redirectToClient(ctx, r, origin, { error: 'access_denied', error_description: 'The user denied the request.' });
      }

      const username = field('username').slice(0, 200);
      const password = field('password').slice(0, 1000);
      const wait = await deps.limits.loginBlockedFor(username, ctx.ip);
      if (wait > 0) {
        ctx.set('Retry-After', String(wait));
        return consentForm(ctx, deps, 429, r, value, client, `Too many failed sign-ins; try again in ${wait} s.`, username);
      }
      const user = await checkCredentials(deps.db, username, password);
      if (!user) {
        await deps.limits.loginFailed(username, ctx.ip);
        return consentForm(ctx, deps, 401, r, value, client, 'Invalid username or password.', username);
      }
      await deps.limits.loginSucceeded(username);

      const allowed = grantableScopes(user.role);
      const granted = r.scopes.length ? r.scopes.filter((s) => allowed.includes(s)) : allowed;
      if (granted.length === 0) {
        return redirectToClient(ctx, r, origin, {
          error: 'invalid_scope',
          error_description: `The role ${user.role} may not grant ${r.scopes.join(', ')}.`,
        });
      }
      const code = await createGrantWithCode(deps.db, {
        clientId: client.client_id,
        userId: user.id,
        scopes: granted,
        resource: r.resource,
        redirectUri: r.redirectUri,
        codeChallenge: r.codeChallenge,
      });
      redirectToClient(ctx, r, origin, { code });
    },
  };
}
