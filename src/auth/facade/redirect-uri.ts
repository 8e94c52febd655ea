import { isLoopbackHostname } from '../../core/loopback.ts';

/**
 * Which redirect URIs the facade sends codes to. It must never become an
 * open redirector, so the rule is short and strict:
 *
 * - a loopback URI of a native client (RFC 8252 §7.3): `http`, host
 *   `127.0.0.1`, `[::1]` or `localhost`, any port, any path;
 * - or one of the configured HTTPS callbacks (`MCP_OAUTH_REDIRECT_URIS`,
 *   e.g. claude.ai's), compared exactly;
 *
 * and, for both, the URI as sent must already be in its normal form: no
 * user info, no fragment, nothing a parser would rewrite (backslashes,
 * percent-encoded slashes or dots in the host, default ports, upper case).
 * A client sends its URI verbatim; a URI that only matches after
 * normalisation is a trick, e.g. `http://127.0.0.1.evil.example/`,
 * `http://127.0.0.1@evil.example/`, `http://127.0.0.1%2f@evil.example/`.
 */

export type RedirectUriCheck = { ok: true; uri: string; loopback: boolean } | { ok: false; reason: string };

/** The URI as a parser sees it, or undefined when the text is not already in that form. */
function canonical(raw: string): URL | undefined {
  if (!URL.canParse(raw) || /[\s\\]/.test(raw)) return undefined;
  const url = new URL(raw);
  // `http://host:1234` serialises as `http://host:1234/`: the one rewrite a sender may leave out.
  const href = url.pathname === '/' && !raw.endsWith('/') && !url.search ? url.href.slice(0, -1) : url.href;
  return href === raw ? url : undefined;
}

export function checkRedirectUri(raw: string | null | undefined, allowedHttps: readonly string[]): RedirectUriCheck {
  if (!raw) return { ok: false, reason: 'redirect_uri is required' };
  const url = canonical(raw);
  if (!url) return { ok: false, reason: 'redirect_uri is not a URL in its normal form' };
  if (url.username || url.password) return { ok: false, reason: 'redirect_uri must not carry user info' };
  if (url.hash || raw.includes('#')) return { ok: false, reason: 'redirect_uri must not have a fragment' };
  if (url.protocol === 'http:') {
    if (!isLoopbackHostname(url.hostname)) return { ok: false, reason: 'an http redirect_uri must be a loopback address (127.0.0.1, [::1] or localhost)' };
    return { ok: true, uri: raw, loopback: true };
  }
  if (url.protocol === 'https:' && allowedHttps.includes(raw)) return { ok: true, uri: raw, loopback: false };
  return { ok: false, reason: 'redirect_uri is not allowed on this server (loopback for native clients, or one of MCP_OAUTH_REDIRECT_URIS)' };
}

/** The host of a redirect URI, for audit (never the path or query, which may carry client data). */
export function redirectHost(raw: string | null | undefined): string | undefined {
  if (!raw || !URL.canParse(raw)) return undefined;
  return new URL(raw).host;
}
