import type { AuthFailure } from './entra-token.ts';
import { qualifiedScope, type EntraSettings } from './settings.ts';

/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728) for the MCP endpoint, the
 * well-known paths it is served at, and the `WWW-Authenticate` challenges
 * (RFC 6750 §3, MCP authorization) that point clients at it.
 *
 * Everything derives from configuration (`MCP_PUBLIC_URL`, the Entra
 * settings), never from the request: behind the Functions front end the
 * request's scheme is `http`, and a client checks that `resource` is the URL
 * it connected to.
 *
 * @example
 * const prm = protectedResourceSettingsFrom(auth.entra, auth.publicUrl);
 * if (protectedResourceMetadataPaths(prm).includes(url.pathname)) return protectedResourceMetadataResponse(prm);
 * if (!result.ok) return authChallengeResponse(result.failure, prm);
 */

export interface ProtectedResourceSettings {
  /** The public MCP URL with its path, e.g. `https://<app>.azurewebsites.net/mcp`. */
  resource: string;
  /** Authorization server issuer URLs, e.g. `https://login.microsoftonline.com/<tenant>/v2.0`. */
  authorizationServers: string[];
  /** Fully qualified scopes (`api://<client-id>/user_impersonation`); the first is the default challenge scope. */
  scopes: string[];
  /** Human-readable name (RFC 9728 `resource_name`). */
  resourceName?: string;
}

/** The RFC 9728 document. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  scopes_supported: string[];
  bearer_methods_supported: ['header'];
  resource_name?: string;
}

export const WELL_KNOWN_PRM_PATH = '/.well-known/oauth-protected-resource';

/** Settings for this module from the auth settings (`publicUrl` is `MCP_PUBLIC_URL`). */
export function protectedResourceSettingsFrom(
  entra: Pick<EntraSettings, 'authorityHost' | 'tenantIds' | 'identifierUri' | 'requiredScope'>,
  publicUrl: string,
  resourceName?: string,
  /** The facade's issuer when MCP_OAUTH_FACADE is on: then it, not Entra, is the authorization server clients see. */
  facadeIssuer?: string,
): ProtectedResourceSettings {
  const settings: ProtectedResourceSettings = {
    resource: publicUrl.replace(/\/+$/, ''),
    authorizationServers: facadeIssuer ? [facadeIssuer] : entra.tenantIds.map((tenantId) => `${entra.authorityHost}/${tenantId}/v2.0`),
    scopes: [qualifiedScope(entra)],
  };
  if (resourceName) settings.resourceName = resourceName;
  return settings;
}

export function protectedResourceMetadata(settings: ProtectedResourceSettings): ProtectedResourceMetadata {
  const document: ProtectedResourceMetadata = {
    resource: settings.resource,
    authorization_servers: [...settings.authorizationServers],
    // SEP-2207: offline_access is for the client to ask of the authorization server, not a scope of this resource.
    scopes_supported: settings.scopes.filter((scope) => scope !== 'offline_access' && !scope.endsWith('/offline_access')),
    bearer_methods_supported: ['header'],
  };
  if (settings.resourceName) document.resource_name = settings.resourceName;
  return document;
}

/**
 * The paths the document is served at: the path-suffixed form of RFC 9728
 * §3.1 (`/.well-known/oauth-protected-resource/mcp` for a resource at
 * `/mcp`), which clients try first and which `resource_metadata` names, and
 * the root form some clients fall back to. Both serve the same document,
 * whose `resource` keeps the path (a bare origin gets a trailing slash
 * added by some clients and then no longer matches).
 */
export function protectedResourceMetadataPaths(settings: ProtectedResourceSettings): string[] {
  const path = new URL(settings.resource).pathname.replace(/\/+$/, '');
  return path === '' ? [WELL_KNOWN_PRM_PATH] : [`${WELL_KNOWN_PRM_PATH}${path}`, WELL_KNOWN_PRM_PATH];
}

/** The public URL of the path-suffixed document, for `resource_metadata`. */
export function protectedResourceMetadataUrl(settings: ProtectedResourceSettings): string {
  const [path] = protectedResourceMetadataPaths(settings);
  return `${new URL(settings.resource).origin}${path}`;
}

/** The document as an HTTP answer (GET or HEAD on one of the paths above). */
export function protectedResourceMetadataResponse(settings: ProtectedResourceSettings): Response {
  return Response.json(protectedResourceMetadata(settings), {
    headers: { 'cache-control': 'public, max-age=3600' },
  });
}

export interface ChallengeParameters {
  resourceMetadataUrl: string;
  /** Space-separated scopes the client should request. */
  scope?: string;
  error?: 'invalid_token' | 'insufficient_scope' | 'invalid_request' | 'insufficient_claims';
  errorDescription?: string;
  /** A Conditional Access claims challenge (base64 of the claims JSON), passed on as Entra's resources do. */
  claims?: string;
}

/**
 * `Bearer resource_metadata="…", scope="…"[, error="…", error_description="…"]`.
 * Values are quoted strings with `\` and `"` escaped and control characters
 * dropped; `error_description` is further limited to RFC 6750's characters
 * (printable ASCII without `"` and `\`).
 */
export function wwwAuthenticate(parameters: ChallengeParameters): string {
  const parts = [`resource_metadata=${quoted(parameters.resourceMetadataUrl)}`];
  if (parameters.scope) parts.push(`scope=${quoted(parameters.scope)}`);
  if (parameters.error) parts.push(`error=${quoted(parameters.error)}`);
  if (parameters.error && parameters.errorDescription) parts.push(`error_description=${quoted(rfc6750Text(parameters.errorDescription))}`);
  if (parameters.claims) parts.push(`claims=${quoted(parameters.claims)}`);
  return `Bearer ${parts.join(', ')}`;
}

function quoted(value: string): string {
  // Control characters (CR/LF above all) never reach a header; then RFC 9110 quoted-string escaping.
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, '');
  return `"${clean.replace(/[\\"]/g, (character) => `\\${character}`)}"`;
}

/** RFC 6750 §3: error_description is %x20-21 / %x23-5B / %x5D-7E. */
function rfc6750Text(value: string): string {
  return value
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .replace(/"/g, "'")
    .replace(/\\/g, '/')
    .replace(/[^\x20-\x7e]/g, '?');
}

/**
 * The HTTP answer to a failed token check: 401 (no or invalid token) or 403
 * (insufficient scope, naming the scope the call needs: MCP's step-up rule)
 * with the challenge, or 503 with `Retry-After` when Entra's metadata is
 * unreachable (no challenge: the client's token may be fine). The body is
 * the description as plain text, not JSON-RPC: the request never reached MCP.
 */
export function authChallengeResponse(failure: AuthFailure, settings: ProtectedResourceSettings): Response {
  const headers = new Headers({ 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  if (failure.status === 503) {
    headers.set('retry-after', '30');
  } else {
    const challenge: ChallengeParameters = {
      resourceMetadataUrl: protectedResourceMetadataUrl(settings),
      scope: failure.scope ?? settings.scopes.join(' '),
    };
    if (failure.error) {
      challenge.error = failure.error;
      challenge.errorDescription = failure.description;
    }
    headers.set('www-authenticate', wwwAuthenticate(challenge));
  }
  return new Response(`${failure.description}\n`, { status: failure.status, headers });
}
