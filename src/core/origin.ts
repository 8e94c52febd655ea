const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * DNS-rebinding defence: a browser always sends `Origin` on cross-site
 * requests, so a page on a foreign site that rebinds its name to this server
 * is refused here. Requests without `Origin` (non-browser MCP clients) pass;
 * loopback origins pass because the local host only listens on loopback.
 */
export function isOriginAllowed(origin: string | null, allowed: readonly string[]): boolean {
  if (origin === null) return true;
  const normalized = origin.toLowerCase();
  if (allowed.includes(normalized)) return true;
  try {
    const url = new URL(normalized);
    return (url.protocol === 'http:' || url.protocol === 'https:') && LOOPBACK_HOSTS.has(url.hostname);
  } catch {
    return false;
  }
}

/** CORS headers for an allowed browser origin (MCP Inspector's direct mode, web clients). */
export function corsHeaders(origin: string | null): Record<string, string> {
  if (origin === null) return {};
  return {
    'access-control-allow-origin': origin,
    'access-control-expose-headers': 'mcp-protocol-version, x-request-id',
    vary: 'Origin',
  };
}

export function preflightHeaders(origin: string): Record<string, string> {
  return {
    ...corsHeaders(origin),
    'access-control-allow-methods': 'POST, OPTIONS',
    'access-control-allow-headers': 'content-type, accept, authorization, mcp-protocol-version, mcp-session-id, x-functions-key',
    'access-control-max-age': '600',
  };
}
