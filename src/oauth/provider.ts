/**
 * ServiceMeow as the OAuth 2.1 authorization server of its MCP endpoint: the MCP SDK's
 * `OAuthServerProvider` (its Express handlers do the protocol: parameter checks, PKCE S256
 * verification, client authentication, error shapes), backed by PostgreSQL.
 *
 * A grant is one user's consent for one client and one resource; codes and tokens descend from it
 * and die with it. Codes are single use (a replay revokes the grant), refresh tokens rotate on every
 * use (a replay revokes the grant), and every token is looked up on use, so revocation and the
 * user's deactivation take effect at once. Clients are public (PKCE, no secret): a registration
 * asking for a secret gets `token_endpoint_auth_method: none` back (RFC 7591 §3.2.1 lets the server
 * replace requested values), so no client secret is ever stored.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Response } from 'express';
import type { OAuthRegisteredClientsStore } from '@modelcontextprotocol/sdk/server/auth/clients.js';
import {
  CustomOAuthError,
  InvalidClientMetadataError,
  InvalidGrantError,
  InvalidRequestError,
  InvalidScopeError,
  InvalidTargetError,
  InvalidTokenError,
  OAuthError,
  TemporarilyUnavailableError,
} from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { AuthorizationParams, OAuthServerProvider } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { OAuthClientInformationFull, OAuthTokenRevocationRequest, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { Knex } from 'knex';
import type { Config } from '../config/env.js';
import { AppError, translateDbError, translateOutage } from '../errors/index.js';
import { findUnstorableText, isStorableText } from '../http/storable-text.js';
import type { ApiKeyScope } from '../models/index.js';
import { signConsentRequest } from './consent-request.js';
import { CONSENT_PATH } from './paths.js';
import { requestOrigin } from './request-scope.js';

/** The scopes a token can carry: the API key scopes, narrowed to the user's role at consent. */
export const OAUTH_SCOPES: readonly ApiKeyScope[] = ['tickets:read', 'tickets:write', 'admin'];

export const ACCESS_TOKEN_PREFIX = 'smat_';
export const REFRESH_TOKEN_PREFIX = 'smrt_';
/** Authorization codes are exchanged by the client right after the redirect. */
const CODE_TTL_MS = 2 * 60_000;
const MAX_REDIRECT_URIS = 10;
const MAX_URI_LENGTH = 2000;

export const sha256 = (plain: string) => createHash('sha256').update(plain).digest('hex');
const secret = (prefix = '') => `${prefix}${randomBytes(32).toString('base64url')}`;

/** The MCP resource a request's origin serves (RFC 8707 resource indicator). */
export type ResourceOf = (origin: string) => string;

interface GrantRow {
  id: string;
  clientId: string;
  userId: string;
  scopes: string[];
  resource: string;
  revokedAt: Date | null;
}

/**
 * Database and outage errors become OAuth's `temporarily_unavailable` (answered 503), and data the
 * database refuses (SQLSTATE class 22, e.g. NUL) `invalid_request` (400): never the SDK's 500.
 * OAuth errors pass.
 */
async function guarded<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (err instanceof OAuthError) throw err;
    const outage = translateOutage(err);
    if (outage instanceof AppError && outage.status === 503) throw new TemporarilyUnavailableError(outage.message);
    const refused = translateDbError(err);
    if (refused instanceof AppError && refused.status < 500) throw new InvalidRequestError(refused.message);
    throw err;
  }
}

/**
 * Redirect URIs a public client may register: https, http only on a loopback host (RFC 8252 §7.3),
 * or a private-use scheme of a native app (RFC 8252 §7.1); never one that runs in the browser.
 */
export function redirectUriProblem(uri: string): string | null {
  if (uri.length > MAX_URI_LENGTH) return `is longer than ${MAX_URI_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'is not an absolute URL';
  }
  if (url.hash) return 'must not have a fragment';
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  if (scheme === 'https') return null;
  if (scheme === 'http') {
    return ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname) ? null : 'must use https (http only on a loopback host)';
  }
  if (['javascript', 'data', 'file', 'blob', 'about', 'vbscript', 'ftp', 'ws', 'wss'].includes(scheme)) {
    return `must not use the ${scheme}: scheme`;
  }
  // a native app's private-use scheme, reverse-DNS style (com.example.app:/cb) or a plain name (cursor://…)
  return /^[a-z][a-z0-9+.-]*$/.test(scheme) ? null : 'has an invalid scheme';
}

class ClientsStore implements OAuthRegisteredClientsStore {
  constructor(private readonly db: Knex) {}

  async getClient(clientId: string): Promise<OAuthClientInformationFull | undefined> {
    if (clientId.length > 200 || !isStorableText(clientId)) return undefined;
    const row = await guarded(() => this.db('oauthClients').where({ clientId }).first<{ metadata: string } | undefined>('metadata'));
    return row ? (JSON.parse(row.metadata) as OAuthClientInformationFull) : undefined;
  }

  async registerClient(client: Omit<OAuthClientInformationFull, 'client_id' | 'client_id_issued_at'>): Promise<OAuthClientInformationFull> {
    const full = client as OAuthClientInformationFull;
    if (!full.client_id) throw new InvalidClientMetadataError('The server could not assign a client id.');
    const uris = full.redirect_uris;
    if (uris.length === 0) throw new CustomOAuthError('invalid_redirect_uri', 'Register at least one redirect URI.');
    if (uris.length > MAX_REDIRECT_URIS)
      throw new CustomOAuthError('invalid_redirect_uri', `Register at most ${MAX_REDIRECT_URIS} redirect URIs.`);
    for (const uri of uris) {
      const problem = redirectUriProblem(uri);
      if (problem) throw new CustomOAuthError('invalid_redirect_uri', `Redirect URI ${JSON.stringify(uri.slice(0, 200))} ${problem}.`);
    }
    const grantTypes = full.grant_types ?? ['authorization_code', 'refresh_token'];
    if (grantTypes.some((g) => g !== 'authorization_code' && g !== 'refresh_token')) {
      throw new InvalidClientMetadataError('Only the authorization_code and refresh_token grant types are supported.');
    }
    if ((full.response_types ?? ['code']).some((r) => r !== 'code')) {
      throw new InvalidClientMetadataError('Only the "code" response type is supported.');
    }
    // the registered scope is informational here (each authorization names its own): keep ours only
    const scope = full.scope
      ?.split(' ')
      .filter((s) => OAUTH_SCOPES.includes(s as ApiKeyScope))
      .join(' ');
    const stored: OAuthClientInformationFull = {
      ...full,
      client_name: full.client_name?.slice(0, 200),
      scope: scope || undefined,
      grant_types: grantTypes,
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      client_secret: undefined,
      client_secret_expires_at: undefined,
    };
    const json = JSON.stringify(stored);
    if (json.length > 20_000) throw new InvalidClientMetadataError('The client metadata is too large.');
    await guarded(() => this.db('oauthClients').insert({ clientId: stored.client_id, metadata: json }));
    return stored;
  }
}

export interface ProviderDeps {
  db: Knex;
  config: Config;
  resourceOf: ResourceOf;
}

export class ServiceMeowOAuthProvider implements OAuthServerProvider {
  readonly clientsStore: ClientsStore;

  constructor(private readonly deps: ProviderDeps) {
    this.clientsStore = new ClientsStore(deps.db);
  }

  /** Checks what can be checked before the user is known, then sends the browser to the consent page. */
  async authorize(client: OAuthClientInformationFull, params: AuthorizationParams, res: Response): Promise<void> {
    // what the consent page signs and the grant stores later: text PostgreSQL can store
    const unstorable = findUnstorableText(
      { code_challenge: params.codeChallenge, state: params.state, redirect_uri: params.redirectUri },
      'query',
    );
    if (unstorable.length) throw new InvalidRequestError(`${unstorable.map((u) => u.path).join(', ')}: ${unstorable[0]!.message}`);
    const origin = requestOrigin(res.req);
    const expected = this.deps.resourceOf(origin);
    const resource = params.resource?.href ?? expected;
    if (resource !== expected) {
      throw new InvalidTargetError(`This server issues tokens only for its MCP endpoint ${expected}, not ${resource}.`);
    }
    // Scopes of other servers (`openid`, …) are ignored (RFC 6749 §3.3); only ours, or none, is an error.
    const asked = (params.scopes ?? []).filter(Boolean);
    const scopes = asked.filter((s) => OAUTH_SCOPES.includes(s as ApiKeyScope));
    if (asked.length && !scopes.length) {
      throw new InvalidScopeError(`Unknown scope ${asked.join(', ')}; the scopes are ${OAUTH_SCOPES.join(', ')}.`);
    }
    const request = signConsentRequest(this.deps.config, {
      clientId: client.client_id,
      redirectUri: params.redirectUri,
      codeChallenge: params.codeChallenge,
      state: params.state,
      scopes,
      resource,
    });
    res.redirect(303, `${CONSENT_PATH}?request=${encodeURIComponent(request)}`);
  }

  async challengeForAuthorizationCode(client: OAuthClientInformationFull, code: string): Promise<string> {
    const row = await guarded(() =>
      this.deps
        .db('oauthAuthorizationCodes as c')
        .join('oauthGrants as g', 'g.id', 'c.grantId')
        .where('c.codeHash', sha256(code))
        .where('g.clientId', client.client_id)
        .first<{ codeChallenge: string } | undefined>('c.codeChallenge'),
    );
    if (!row) throw new InvalidGrantError('The authorization code is not valid for this client.');
    return row.codeChallenge;
  }

  async exchangeAuthorizationCode(
    client: OAuthClientInformationFull,
    code: string,
    _verifier?: string,
    redirectUri?: string,
    resource?: URL,
  ): Promise<OAuthTokens> {
    const outcome = await guarded(() =>
      this.deps.db.transaction(async (trx) => {
        // Row lock: of two concurrent exchanges of one code, the second sees it used (= replay).
        const row = await trx('oauthAuthorizationCodes')
          .where({ codeHash: sha256(code) })
          .forUpdate()
          .first<{ codeHash: string; grantId: string; redirectUri: string; expiresAt: Date; usedAt: Date | null } | undefined>();
        const grant = row ? await trx('oauthGrants').where({ id: row.grantId }).first<GrantRow | undefined>() : undefined;
        if (!row || !grant || grant.clientId !== client.client_id) {
          return new InvalidGrantError('The authorization code is not valid for this client.');
        }
        if (row.usedAt) {
          // RFC 9700 §4.2.1 / OAuth 2.1 §4.1.3: a code used twice revokes what it was exchanged for.
          await revokeGrant(trx, grant.id);
          return new InvalidGrantError('The authorization code was already used; the tokens issued for it are revoked.');
        }
        if (row.expiresAt <= new Date()) return new InvalidGrantError('The authorization code has expired; authorize again.');
        if (redirectUri !== undefined && redirectUri !== row.redirectUri) {
          return new InvalidGrantError('redirect_uri differs from the one used in the authorization request.');
        }
        if (resource && resource.href !== grant.resource) {
          return new InvalidTargetError(`The code was issued for ${grant.resource}, not ${resource.href}.`);
        }
        if (grant.revokedAt) return new InvalidGrantError('The authorization was revoked; authorize again.');
        await trx('oauthAuthorizationCodes').where({ codeHash: row.codeHash }).update({ usedAt: new Date() });
        if (!(await userIsActive(trx, grant.userId))) return new InvalidGrantError('The account is deactivated.');
        return this.issueTokens(trx, grant, grant.scopes);
      }),
    );
    // Thrown after the transaction, so a replay's revocation is committed.
    if (outcome instanceof OAuthError) throw outcome;
    return outcome;
  }

  async exchangeRefreshToken(
    client: OAuthClientInformationFull,
    refreshToken: string,
    scopes?: string[],
    resource?: URL,
  ): Promise<OAuthTokens> {
    const outcome = await guarded(() =>
      this.deps.db.transaction(async (trx) => {
        const token = await trx('oauthTokens')
          .where({ tokenHash: sha256(refreshToken), kind: 'refresh' })
          .forUpdate()
          .first<{ id: string; grantId: string; expiresAt: Date; usedAt: Date | null } | undefined>();
        const grant = token ? await trx('oauthGrants').where({ id: token.grantId }).first<GrantRow | undefined>() : undefined;
        if (!token || !grant || grant.clientId !== client.client_id) {
          return new InvalidGrantError('The refresh token is not valid for this client.');
        }
        if (grant.revokedAt) return new InvalidGrantError('The authorization was revoked; authorize again.');
        if (token.usedAt) {
          await revokeGrant(trx, grant.id);
          return new InvalidGrantError('This refresh token was already used; the authorization is now revoked. Authorize again.');
        }
        if (token.expiresAt <= new Date()) return new InvalidGrantError('The refresh token has expired; authorize again.');
        if (resource && resource.href !== grant.resource) {
          return new InvalidTargetError(`The authorization is for ${grant.resource}, not ${resource.href}.`);
        }
        const wanted = scopes?.filter(Boolean) ?? [];
        const beyond = wanted.filter((s) => !grant.scopes.includes(s));
        if (beyond.length) return new InvalidScopeError(`The authorization does not include ${beyond.join(', ')}.`);
        if (!(await userIsActive(trx, grant.userId))) {
          await revokeGrant(trx, grant.id);
          return new InvalidGrantError('The account is deactivated.');
        }
        await trx('oauthTokens').where({ id: token.id }).update({ usedAt: new Date() });
        return this.issueTokens(trx, grant, wanted.length ? wanted : grant.scopes);
      }),
    );
    if (outcome instanceof OAuthError) throw outcome;
    return outcome;
  }

  /** For the SDK's bearer middleware; the MCP endpoint resolves principals with `findAccessToken`. */
  async verifyAccessToken(token: string): Promise<AuthInfo> {
    const found = await guarded(() => findAccessToken(this.deps.db, token));
    if (!found) throw new InvalidTokenError('The access token is invalid, expired or revoked.');
    return {
      token,
      clientId: found.clientId,
      scopes: found.scopes,
      expiresAt: Math.floor(found.expiresAt.getTime() / 1000),
      resource: new URL(found.resource),
    };
  }

  /** RFC 7009: either token revokes its whole grant; unknown tokens are not an error. */
  async revokeToken(client: OAuthClientInformationFull, request: OAuthTokenRevocationRequest): Promise<void> {
    await guarded(async () => {
      const row = await this.deps
        .db('oauthTokens as t')
        .join('oauthGrants as g', 'g.id', 't.grantId')
        .where('t.tokenHash', sha256(request.token))
        .where('g.clientId', client.client_id)
        .first<{ grantId: string } | undefined>('t.grantId');
      if (row) await revokeGrant(this.deps.db, row.grantId);
    });
  }

  private async issueTokens(trx: Knex, grant: GrantRow, scopes: string[]): Promise<OAuthTokens> {
    const access = secret(ACCESS_TOKEN_PREFIX);
    const refresh = secret(REFRESH_TOKEN_PREFIX);
    const accessSeconds = this.deps.config.jwt.accessTokenMinutes * 60;
    const now = Date.now();
    // a long-lived grant does not pile up its expired tokens (a replay of one is refused all the same)
    await trx('oauthTokens').where({ grantId: grant.id }).where('expiresAt', '<', new Date(now)).delete();
    await trx('oauthTokens').insert([
      { grantId: grant.id, kind: 'access', tokenHash: sha256(access), scopes, expiresAt: new Date(now + accessSeconds * 1000) },
      {
        grantId: grant.id,
        kind: 'refresh',
        tokenHash: sha256(refresh),
        scopes: grant.scopes,
        expiresAt: new Date(now + this.deps.config.jwt.refreshTokenDays * 86_400_000),
      },
    ]);
    return { access_token: access, token_type: 'Bearer', expires_in: accessSeconds, refresh_token: refresh, scope: scopes.join(' ') };
  }
}

/** A signed-in user's consent: the grant and its one code. Returns the plain code. */
export async function createGrantWithCode(
  db: Knex,
  g: { clientId: string; userId: string; scopes: string[]; resource: string; redirectUri: string; codeChallenge: string },
): Promise<string> {
  const code = secret();
  await db.transaction(async (trx) => {
    const [grant] = await trx('oauthGrants')
      .insert({ clientId: g.clientId, userId: g.userId, scopes: g.scopes, resource: g.resource })
      .returning<{ id: string }[]>('id');
    await trx('oauthAuthorizationCodes').insert({
      codeHash: sha256(code),
      grantId: grant!.id,
      redirectUri: g.redirectUri,
      codeChallenge: g.codeChallenge,
      expiresAt: new Date(Date.now() + CODE_TTL_MS),
    });
  });
  return code;
}

export interface AccessTokenRecord {
  grantId: string;
  clientId: string;
  userId: string;
  scopes: ApiKeyScope[];
  resource: string;
  expiresAt: Date;
}

/** A live access token: known, unexpired, its grant not revoked. (The user's state is the caller's check.) */
export async function findAccessToken(db: Knex, plain: string): Promise<AccessTokenRecord | null> {
  if (!plain.startsWith(ACCESS_TOKEN_PREFIX)) return null;
  const row = await db('oauthTokens as t')
    .join('oauthGrants as g', 'g.id', 't.grantId')
    .where('t.tokenHash', sha256(plain))
    .where('t.kind', 'access')
    .where('t.expiresAt', '>', db.fn.now())
    .whereNull('g.revokedAt')
    .first<AccessTokenRecord | undefined>('t.grantId', 'g.clientId', 'g.userId', 't.scopes', 'g.resource', 't.expiresAt');
  return row ?? null;
}

export async function revokeGrant(db: Knex, grantId: string): Promise<void> {
  await db('oauthGrants').where({ id: grantId }).whereNull('revokedAt').update({ revokedAt: new Date() });
}

async function userIsActive(db: Knex, userId: string): Promise<boolean> {
  const user = await db('users').where({ id: userId }).first<{ isActive: boolean } | undefined>('isActive');
  return user?.isActive === true;
}
