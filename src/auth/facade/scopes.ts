/**
 * Scopes and `resource` as clients send them, turned into what Entra accepts:
 * bare names qualified to the API (`user_impersonation` →
 * `api://<client-id>/user_impersonation`), OpenID scopes kept, and no
 * `resource` ever forwarded (Entra refuses one next to v2 scopes,
 * AADSTS9010010). A scope of another API or a `resource` naming another
 * server is refused: tokens from this facade are for this API only.
 */

const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

export interface ApiScopes {
  /** `api://<client-id>` (or the configured Application ID URI). */
  identifierUri: string;
  clientId: string;
  /** Bare scope names the API declares. */
  known: readonly string[];
}

/** The scopes to ask Entra for, or why the request is refused. `offline_access` is always added: clients expect a refresh token. */
export function qualifyScopes(requested: string | null, api: ApiScopes): { ok: true; scopes: string[] } | { ok: false; description: string } {
  const prefixes = [`${api.identifierUri}/`, `${api.clientId}/`];
  const items = (requested ?? '').split(' ').filter(Boolean);
  const scopes = new Set<string>();
  for (const item of items) {
    if (OIDC_SCOPES.has(item)) continue;
    const prefix = prefixes.find((candidate) => item.toLowerCase().startsWith(candidate.toLowerCase()));
    const name = prefix ? item.slice(prefix.length) : item.includes('/') || item.includes(':') ? undefined : item;
    if (name === undefined || !(api.known.includes(name) || name === '.default')) {
      return { ok: false, description: `The scope "${item.slice(0, 200)}" is not a scope of this API; ask for ${api.known.map((known) => `${api.identifierUri}/${known}`).join(' ')}.` };
    }
    scopes.add(`${api.identifierUri}/${name}`);
  }
  // A client that asks for nothing (Codex does) gets the API's scopes rather than AADSTS900144.
  if (scopes.size === 0) for (const known of api.known) scopes.add(`${api.identifierUri}/${known}`);
  return { ok: true, scopes: [...scopes, 'offline_access'] };
}

/**
 * Whether an RFC 8707 `resource` names this server: the MCP URL, with the
 * trailing slash some clients add (WHATWG normalisation of a host-only URL),
 * or the API's own identifiers. Absent is fine.
 */
export function resourceIsThisServer(resource: string | null, mcpUrl: string, api: Pick<ApiScopes, 'identifierUri' | 'clientId'>): boolean {
  if (resource === null) return true;
  const bare = (value: string) => value.replace(/\/+$/, '').toLowerCase();
  return [mcpUrl, api.identifierUri, api.clientId].some((name) => bare(name) === bare(resource));
}
