import { isLoopbackHostname } from './loopback.ts';

/**
 * DNS-rebinding defence: a browser always sends `Origin` on cross-site
 * requests, so a page on a foreign site that rebinds its name to this server
 * is refused here. Requests without `Origin` (non-browser MCP clients) pass;
 * loopback origins pass because a browser on the user's own machine is the
 * local client (MCP Inspector). `null` (sandboxed frames, file pages) is refused.
 */
export function isOriginAllowed(origin: string | null, allowed: readonly string[]): boolean {
  if (origin === null) return true;
  const normalized = origin.toLowerCase();
  if (allowed.includes(normalized)) return true;
  try {
    const url = new URL(normalized);
    return (url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackHostname(url.hostname);
  } catch {
    return false;
  }
}

/** What MCP clients send: auth, the MCP headers of both eras, resumption, Functions keys, Inspector's proxy header. */
const ALLOWED_REQUEST_HEADERS = [
  'authorization',
  'content-type',
  'accept',
  'mcp-protocol-version',
  'mcp-method',
  'mcp-name',
  'mcp-session-id',
  'last-event-id',
  'x-functions-key',
  'x-custom-auth-headers',
];
const EXPOSED_HEADERS = 'www-authenticate, retry-after, x-request-id, mcp-protocol-version, mcp-session-id';
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

/**
 * CORS for an origin that passed `isOriginAllowed`, on every answer (errors
 * included, or a browser client only sees "Failed to fetch"). Never call it
 * for a refused origin: echoing one would let that page read the answer.
 */
export function corsHeaders(origin: string | null): Record<string, string> {
  if (origin === null) return {};
  return { 'access-control-allow-origin': origin, 'access-control-expose-headers': EXPOSED_HEADERS, vary: 'Origin' };
}

/**
 * Preflight for an allowed origin. Besides the MCP headers it allows whatever
 * custom headers the client asks for (Inspector's direct mode lets users add
 * any): the origin is already trusted, and a header grants nothing by itself.
 */
export function preflightHeaders(origin: string, requested: string | null): Record<string, string> {
  const headers = new Set(ALLOWED_REQUEST_HEADERS);
  for (const name of (requested ?? '').split(',')) {
    const normalized = name.trim().toLowerCase();
    if (HEADER_NAME.test(normalized) && normalized.length <= 100 && headers.size < 64) headers.add(normalized);
  }
  return {
    ...corsHeaders(origin),
    'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
    'access-control-allow-headers': [...headers].join(', '),
    'access-control-max-age': '600',
    vary: 'Origin, Access-Control-Request-Headers',
  };
}
