/**
 * Emulated Microsoft Entra ID on `login.localhost`: the signing key every
 * emulated token comes from, OIDC discovery, JWKS, msal's instance discovery
 * and the v2 token endpoint for the `client_credentials` grant.
 *
 * Tokens for Azure resources (Key Vault, Kusto, Monitor) follow Entra's v1
 * access-token shape (`iss` = `https://sts.windows.net/<tenant>/`), as the
 * real resources receive. The OIDC document advertises the v2 issuer on
 * `login.localhost`, because msal-node rejects a discovery `issuer` whose
 * origin differs from the authority's.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  jwtVerify,
  SignJWT,
  type CryptoKey,
  type JWK,
} from 'jose';
import type { EmulatorContext, EmulatorService, TokenClaims } from './types.ts';

export const LOGIN_HOST = 'login.localhost';
const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Entra app tokens live about an hour; `expires_in` is reported one second short. */
const ENTRA_TOKEN_LIFETIME_SECONDS = 3599;

export interface MintOptions {
  expiresInSeconds?: number;
}

/** Signs and checks every token the emulator hands out (RS256, one key per emulator). */
export interface TokenIssuer {
  jwks(): { keys: JWK[] };
  sign(claims: Partial<TokenClaims> & { aud: string }, options?: MintOptions): Promise<string>;
  /** Claims of a valid token for one of `audiences` (trailing slashes ignored), else null. */
  verify(token: string, audiences: string | string[]): Promise<TokenClaims | null>;
}

export async function createTokenIssuer(): Promise<TokenIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const published: JWK = { kty: 'RSA', use: 'sig', kid, x5t: kid, n: publicJwk.n, e: publicJwk.e };
  return {
    jwks: () => ({ keys: [published] }),
    sign: (claims, options) => signToken(privateKey, kid, claims, options),
    verify: (token, audiences) => verifyToken(publicKey, token, audiences),
  };
}

async function signToken(
  key: CryptoKey,
  kid: string,
  claims: Partial<TokenClaims> & { aud: string },
  { expiresInSeconds = 3600 }: MintOptions = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  // Entra back-dates nbf/iat by five minutes to absorb clock skew.
  return new SignJWT({ iat: now - 300, nbf: now - 300, exp: now + expiresInSeconds, ...claims })
    .setProtectedHeader({ typ: 'JWT', alg: 'RS256', x5t: kid, kid })
    .sign(key);
}

async function verifyToken(key: CryptoKey, token: string, audiences: string | string[]): Promise<TokenClaims | null> {
  const accepted = (Array.isArray(audiences) ? audiences : [audiences]).map(withoutTrailingSlash);
  try {
    const { payload } = await jwtVerify(token, key, { algorithms: ['RS256'] });
    if (typeof payload.aud !== 'string' || !accepted.includes(withoutTrailingSlash(payload.aud))) return null;
    return payload as TokenClaims;
  } catch {
    return null;
  }
}

function withoutTrailingSlash(value: string): string {
  return value.replace(/\/+$/, '');
}

/** Issuer of Entra v1 access tokens, the kind Azure resource providers receive. */
export function v1Issuer(tenantId: string): string {
  return `https://sts.windows.net/${tenantId}/`;
}

/** Issuer advertised by this emulator's OIDC document (v2 tokens, e.g. for the product's own API). */
export function v2Issuer(ctx: EmulatorContext, tenantId: string): string {
  return `${ctx.origin(LOGIN_HOST)}/${tenantId}/v2.0`;
}

export interface AppIdentity {
  tenantId: string;
  clientId: string;
  /** Object id of the service principal or managed identity. */
  principalId: string;
}

/** Claims of an app-only (no user) v1 access token for `resource`. */
export function appTokenClaims(app: AppIdentity, resource: string, extra: Partial<TokenClaims> = {}): TokenClaims {
  const issuer = v1Issuer(app.tenantId);
  return {
    aud: resource,
    iss: issuer,
    idp: issuer,
    sub: app.principalId,
    oid: app.principalId,
    tid: app.tenantId,
    appid: app.clientId,
    azp: app.clientId,
    idtyp: 'app',
    uti: randomUUID().replaceAll('-', ''),
    ver: '1.0',
    ...extra,
  };
}

/** A stable GUID derived from `seed`, standing in for a service principal's object id. */
export function guidFrom(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** An OAuth error body shaped like Entra's (`AADSTS` codes). */
function oauthError(status: number, error: string, code: number, description: string): Response {
  const traceId = randomUUID();
  return Response.json(
    {
      error,
      error_description: `AADSTS${code}: ${description} Trace ID: ${traceId}`,
      error_codes: [code],
      timestamp: new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
      trace_id: traceId,
      correlation_id: randomUUID(),
    },
    { status },
  );
}

export interface EntraOptions {
  tenantId: string;
  issuer: TokenIssuer;
}

export function createEntraService({ tenantId, issuer }: EntraOptions): EmulatorService {
  const knownTenants = new Set([tenantId, 'common', 'organizations']);
  return {
    name: 'entra',
    hostPattern: LOGIN_HOST,
    matches: (hostname) => hostname === LOGIN_HOST,
    async handle(req, ctx) {
      const url = new URL(req.url);
      const [tenant = '', ...rest] = url.pathname.split('/').filter(Boolean);
      const route = `${req.method} /${rest.join('/')}`;
      if (route === 'GET /discovery/instance' && tenant === 'common') return instanceDiscovery(url, ctx, tenantId);
      if (!knownTenants.has(tenant.toLowerCase())) {
        return oauthError(400, 'invalid_tenant', 90002, `Tenant '${tenant}' not found.`);
      }
      switch (route) {
        case 'GET /v2.0/.well-known/openid-configuration':
          return Response.json(openIdConfiguration(ctx, tenant, tenantId));
        case 'GET /discovery/v2.0/keys':
        case 'GET /discovery/keys':
          return Response.json(issuer.jwks());
        case 'POST /oauth2/v2.0/token':
          return tokenEndpoint(req, tenant, { tenantId, issuer });
        default:
          return oauthError(404, 'invalid_request', 900561, `The endpoint '${route}' is not emulated.`);
      }
    },
  };
}

function openIdConfiguration(ctx: EmulatorContext, tenant: string, tenantId: string) {
  const base = `${ctx.origin(LOGIN_HOST)}/${tenant}`;
  // `common` documents keep the placeholder, tenant documents name the tenant, as Entra does.
  const issuerTenant = tenant === tenantId ? tenantId : '{tenantid}';
  return {
    issuer: `${ctx.origin(LOGIN_HOST)}/${issuerTenant}/v2.0`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    token_endpoint: `${base}/oauth2/v2.0/token`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    jwks_uri: `${base}/discovery/v2.0/keys`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    response_modes_supported: ['query', 'fragment', 'form_post'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'oid', 'tid', 'name', 'preferred_username'],
    request_uri_parameter_supported: false,
    tenant_region_scope: null,
    cloud_instance_name: 'localhost',
  };
}

/** msal's `/common/discovery/instance?authorization_endpoint=…` answer: this host is its own cloud. */
function instanceDiscovery(url: URL, ctx: EmulatorContext, tenantId: string): Response {
  const host = new URL(ctx.origin(LOGIN_HOST)).host;
  const authorizationEndpoint = url.searchParams.get('authorization_endpoint') ?? '';
  const tenant = URL.canParse(authorizationEndpoint)
    ? (new URL(authorizationEndpoint).pathname.split('/')[1] ?? tenantId)
    : tenantId;
  return Response.json({
    tenant_discovery_endpoint: `${ctx.origin(LOGIN_HOST)}/${tenant}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
  });
}

async function tokenEndpoint(req: Request, tenant: string, { tenantId, issuer }: EntraOptions): Promise<Response> {
  const form = new URLSearchParams(await req.text());
  const grantType = form.get('grant_type');
  if (grantType !== 'client_credentials') {
    return oauthError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType}'.`);
  }
  if (tenant !== tenantId) {
    return oauthError(400, 'invalid_request', 90002, `Tenant '${tenant}' cannot be used with client credentials.`);
  }
  const clientId = form.get('client_id');
  if (!clientId) return oauthError(400, 'invalid_request', 900144, "The request body must contain the 'client_id' parameter.");
  const appidacr = clientAuthenticationMethod(form);
  if (!appidacr) {
    return oauthError(401, 'invalid_client', 7000216, "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.");
  }
  const scope = form.get('scope') ?? '';
  if (!/^\S+\/\.default$/.test(scope)) {
    return oauthError(400, 'invalid_scope', 1002012, `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
  }
  const resource = scope.slice(0, -'/.default'.length);
  const app = { tenantId, clientId, principalId: guidFrom(`${tenantId}/${clientId}`) };
  const accessToken = await issuer.sign(appTokenClaims(app, resource, { appidacr }), {
    expiresInSeconds: ENTRA_TOKEN_LIFETIME_SECONDS + 1,
  });
  return Response.json({
    token_type: 'Bearer',
    expires_in: ENTRA_TOKEN_LIFETIME_SECONDS,
    ext_expires_in: ENTRA_TOKEN_LIFETIME_SECONDS,
    access_token: accessToken,
  });
}

/** Entra's `appidacr`: "1" for a client secret, "2" for a certificate (client assertion), else null. */
function clientAuthenticationMethod(form: URLSearchParams): '1' | '2' | null {
  if (form.get('client_secret')) return '1';
  const assertion = form.get('client_assertion') ?? '';
  if (form.get('client_assertion_type') === CLIENT_ASSERTION_TYPE && assertion.split('.').length === 3) return '2';
  return null;
}
