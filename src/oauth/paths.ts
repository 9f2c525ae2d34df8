/** Where the authorization server and the protected resource metadata live (issuer = the origin). */
export const AUTHORIZE_PATH = '/oauth/authorize';
export const TOKEN_PATH = '/oauth/token';
export const REGISTER_PATH = '/oauth/register';
export const REVOKE_PATH = '/oauth/revoke';
export const CONSENT_PATH = '/oauth/consent';
/** RFC 8414 §3: the issuer has no path, so its metadata sits at the root. */
export const AS_METADATA_PATH = '/.well-known/oauth-authorization-server';
/** RFC 9728 §3.1: the resource's path is appended (`/.well-known/oauth-protected-resource/mcp`). */
export const RESOURCE_METADATA_PREFIX = '/.well-known/oauth-protected-resource';
