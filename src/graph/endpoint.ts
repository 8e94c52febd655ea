/**
 * The one Graph host this server talks to (`GRAPH_ENDPOINT`): the public
 * cloud by default, a sovereign cloud's host, or the emulator
 * (`https://graph.localhost:<port>`). Every URL the Graph layer sends a token
 * to, follows as a nextLink or signs into a cursor is checked against it, so
 * a link from a response or a cursor can never aim the server's (or a
 * user's) token at another host.
 */

export const DEFAULT_GRAPH_ENDPOINT = 'https://graph.microsoft.com';
/** Only the stable API: the tools' shapes and the emulator follow v1.0. */
export const GRAPH_VERSION = 'v1.0';

export interface GraphEndpoint {
  /** Scheme, host and port, no trailing slash: `https://graph.microsoft.com`. */
  readonly origin: string;
  /** Host name without port, as the Graph client's `customHosts` wants it. */
  readonly hostname: string;
  /** `https://graph.microsoft.com/v1.0`: what relative resource paths hang off. */
  readonly root: string;
  /** The token scope for app-only and on-behalf-of tokens: `<origin>/.default`. */
  readonly scope: string;
}

/** Parses and checks an endpoint URL: https, no credentials, no path, query or fragment. Throws a message naming the problem. */
export function graphEndpoint(url: string = DEFAULT_GRAPH_ENDPOINT): GraphEndpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`"${url}" is not a URL`);
  }
  if (parsed.protocol !== 'https:') throw new Error(`must use https, not ${parsed.protocol.replace(':', '')}`);
  if (parsed.username || parsed.password) throw new Error('must not carry credentials');
  if ((parsed.pathname !== '/' && parsed.pathname !== '') || parsed.search || parsed.hash) {
    throw new Error(`must be the host only (like ${DEFAULT_GRAPH_ENDPOINT}), without a path, query or fragment; the API version is added by the server`);
  }
  const origin = parsed.origin;
  return Object.freeze({ origin, hostname: parsed.hostname, root: `${origin}/${GRAPH_VERSION}`, scope: `${origin}/.default` });
}

/**
 * Whether `url` is an absolute https URL of this endpoint under the version
 * root. Compared as parsed origins (so `graph.microsoft.com.evil.example`,
 * `graph.microsoft.com@evil.example` or another port never match).
 */
export function isEndpointUrl(endpoint: GraphEndpoint, url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.username || parsed.password) return false;
  return parsed.origin === endpoint.origin && parsed.pathname.startsWith(`/${GRAPH_VERSION}/`);
}

/** `root + path` for a resource path such as `/teams/<id>/channels` (leading slash required; query allowed). */
export function endpointUrl(endpoint: GraphEndpoint, path: string): string {
  if (!path.startsWith('/') || path.startsWith('//')) throw new Error(`a Graph resource path starts with one "/": ${JSON.stringify(path.slice(0, 80))}`);
  return `${endpoint.root}${path}`;
}
