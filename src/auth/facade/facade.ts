import { createHash } from 'node:crypto';
import type { EntraSettings } from '../settings.ts';
import { authorizeEndpoint, callbackEndpoint } from './authorize.ts';
import { entraEndpoints, type EntraEndpoints } from './entra-relay.ts';
import { authorizationServerMetadata } from './metadata.ts';
import { registerEndpoint } from './register.ts';
import type { KeyRing } from './sealed.ts';
import type { ApiScopes } from './scopes.ts';
import { tokenEndpoint } from './token.ts';

/**
 * The optional authorization-server facade (`MCP_OAUTH_FACADE`): the MCP
 * clients of 2026 cannot sign in to Entra on their own (no RFC 8414
 * metadata, no dynamic registration, AADSTS9010010 for the `resource` they
 * must send), so this server speaks what they expect and relays to Entra.
 * The tokens clients end up with are ordinary Entra access tokens for this
 * API, validated like any other (src/auth/entra-token.ts).
 *
 * Stateless across instances: whatever travels between requests is sealed
 * (src/auth/facade/sealed.ts). docs/clients.md has the flow.
 */

export type FacadeEndpoint = 'metadata' | 'authorize' | 'callback' | 'token' | 'register';

/** One audited facade request: never a code, token, verifier or state. */
export interface FacadeAuditFacts {
  endpoint: FacadeEndpoint;
  outcome: 'success' | 'denied' | 'error';
  status: number;
  /** Machine-readable reason of a refusal, e.g. `redirect_uri_not_allowed`, `pkce_mismatch`. */
  reason?: string;
  /** The OAuth error the client was given. */
  oauthError?: string;
  aadsts?: number;
  /** A short hash of the client id (registered ids are long and opaque), and the name it registered. */
  clientId?: string;
  clientName?: string;
  redirectHost?: string;
  grantType?: string;
  httpMethod: string;
  userAgent?: string;
}

export interface OAuthFacadeOptions {
  entra: Pick<EntraSettings, 'authorityHost' | 'tenantIds' | 'clientId' | 'identifierUri' | 'requiredScope'>;
  /** `MCP_PUBLIC_URL`: the protected resource; its origin is the facade's issuer. */
  publicUrl: string;
  /** HTTPS callbacks allowed besides loopback (`MCP_OAUTH_REDIRECT_URIS`). */
  redirectUris: readonly string[];
  /** The keys that seal state, codes and client ids (from Key Vault). */
  keyRing: () => Promise<KeyRing>;
  /** The managed identity's token for `api://AzureADTokenExchange`: the facade's client assertion at Entra. */
  clientAssertion: () => Promise<string>;
  audit: (facts: FacadeAuditFacts) => void;
  fetch?: typeof fetch;
}

/** What every endpoint gets. */
export interface FacadeContext {
  issuer: string;
  resource: string;
  callbackUrl: string;
  secureCookies: boolean;
  api: ApiScopes;
  entraClientId: string;
  entra: EntraEndpoints;
  redirectUris: readonly string[];
  keyRing: () => Promise<KeyRing>;
  clientAssertion: () => Promise<string>;
  fetch: typeof fetch;
}

/** An endpoint's answer and what to audit about it. */
export interface FacadeResult {
  response: Response;
  audit: Omit<FacadeAuditFacts, 'endpoint' | 'httpMethod' | 'userAgent' | 'status'>;
}

export const FACADE_PATHS = {
  metadata: ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration'],
  authorize: '/authorize',
  callback: '/oauth/callback',
  token: '/token',
  register: '/register',
} as const;

export interface OAuthFacade {
  /** The facade's issuer: the origin of `MCP_PUBLIC_URL`, named in the protected resource metadata. */
  issuer: string;
  /** Whether a path is one of the facade's. */
  handles(pathname: string): boolean;
  handle(request: Request): Promise<Response>;
}

/** Short, stable and not reversible: enough to tell clients apart in audit. */
export const clientIdDigest = (clientId: string) => createHash('sha256').update(clientId).digest('base64url').slice(0, 16);

/** Anyone may read metadata or call the token and registration endpoints from a browser (no cookies or credentials are involved). */
const OPEN_CORS = { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, POST, OPTIONS', 'access-control-allow-headers': 'authorization, content-type, mcp-protocol-version', 'access-control-max-age': '600' };

export function createOAuthFacade(options: OAuthFacadeOptions): OAuthFacade {
  const origin = new URL(options.publicUrl).origin;
  const [homeTenant] = options.entra.tenantIds;
  if (!homeTenant) throw new Error('the OAuth facade needs ENTRA_TENANT_ID');
  const ctx: FacadeContext = {
    issuer: origin,
    resource: options.publicUrl,
    callbackUrl: `${origin}${FACADE_PATHS.callback}`,
    secureCookies: origin.startsWith('https:'),
    api: { identifierUri: options.entra.identifierUri, clientId: options.entra.clientId, known: [options.entra.requiredScope] },
    entraClientId: options.entra.clientId,
    entra: entraEndpoints(options.entra.authorityHost, homeTenant),
    redirectUris: options.redirectUris,
    keyRing: options.keyRing,
    clientAssertion: options.clientAssertion,
    fetch: options.fetch ?? globalThis.fetch,
  };
  const metadata = authorizationServerMetadata(ctx);
  const paths = new Set<string>([...FACADE_PATHS.metadata, FACADE_PATHS.authorize, FACADE_PATHS.callback, FACADE_PATHS.token, FACADE_PATHS.register]);
  const endpointOf = (pathname: string): FacadeEndpoint =>
    pathname === FACADE_PATHS.authorize ? 'authorize' : pathname === FACADE_PATHS.callback ? 'callback' : pathname === FACADE_PATHS.token ? 'token' : pathname === FACADE_PATHS.register ? 'register' : 'metadata';
  const allowed: Record<FacadeEndpoint, string[]> = { metadata: ['GET', 'HEAD'], authorize: ['GET'], callback: ['GET'], token: ['POST'], register: ['POST'] };

  async function answer(endpoint: FacadeEndpoint, request: Request): Promise<FacadeResult> {
    if (endpoint === 'metadata') {
      return { response: Response.json(metadata, { headers: { 'cache-control': 'public, max-age=3600', ...OPEN_CORS } }), audit: { outcome: 'success' } };
    }
    if (endpoint === 'authorize') return authorizeEndpoint(request, ctx);
    if (endpoint === 'callback') return callbackEndpoint(request, ctx);
    const result = endpoint === 'token' ? await tokenEndpoint(request, ctx) : await registerEndpoint(request, ctx);
    for (const [name, value] of Object.entries(OPEN_CORS)) result.response.headers.set(name, value);
    return result;
  }

  return {
    issuer: origin,
    handles: (pathname) => paths.has(pathname),
    async handle(request) {
      const endpoint = endpointOf(new URL(request.url).pathname);
      const base = { endpoint, httpMethod: request.method, ...(request.headers.get('user-agent') && { userAgent: request.headers.get('user-agent') as string }) };
      if (request.method === 'OPTIONS' && endpoint !== 'authorize' && endpoint !== 'callback') return new Response(null, { status: 204, headers: OPEN_CORS });
      if (!allowed[endpoint].includes(request.method)) {
        options.audit({ ...base, outcome: 'error', status: 405, reason: 'method_not_allowed' });
        return new Response(null, { status: 405, headers: { allow: allowed[endpoint].join(', ') } });
      }
      let result: FacadeResult;
      try {
        result = await answer(endpoint, request);
      } catch (error) {
        // Key Vault unreachable, mostly: nothing a client can fix, and nothing it may learn about our secrets.
        process.stderr.write(`oauth facade: ${endpoint} failed: ${(error as Error).name}: ${String((error as Error).message).slice(0, 300)}\n`);
        result = {
          response: Response.json({ error: 'temporarily_unavailable', error_description: 'The sign-in service is not available right now; try again in a minute.' }, { status: 503, headers: { 'cache-control': 'no-store', 'retry-after': '30' } }),
          audit: { outcome: 'error', reason: 'facade_unavailable', oauthError: 'temporarily_unavailable' },
        };
      }
      options.audit({ ...base, ...result.audit, status: result.response.status });
      if (request.method === 'HEAD') return new Response(null, { status: result.response.status, headers: result.response.headers });
      return result.response;
    },
  };
}
