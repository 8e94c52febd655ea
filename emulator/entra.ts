/**
 * Emulated Microsoft Entra ID on `login.localhost`: the signing keys every
 * emulated token comes from (with rotation), per-tenant OIDC discovery (v2
 * and v1 documents), JWKS, msal's instance discovery, the v2 authorize
 * endpoint (authorization code with PKCE; a user signs in without a page),
 * and the v2 token endpoint for the `client_credentials`, on-behalf-of
 * (`urn:ietf:params:oauth:grant-type:jwt-bearer`), `authorization_code` and
 * `refresh_token` grants. The directory behind it
 * (tenants, app registrations, federated credentials, consent, users,
 * Conditional Access challenges) and the helpers that mint tokens for the
 * product's API live in `entra-tenant.ts`.
 *
 * Tokens for Azure resources (Key Vault, Kusto, Monitor) and on-behalf-of
 * tokens follow Entra's v1 access-token shape (`iss` =
 * `https://sts.windows.net/<tenant>/`), as the real resources receive. The
 * OIDC document advertises the v2 issuer on `login.localhost`, because
 * msal-node rejects a discovery `issuer` whose origin differs from the
 * authority's. Errors carry Entra's `AADSTS` codes; the wording is
 * Entra's, shortened.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  base64url,
  calculateJwkThumbprint,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  exportPKCS8,
  exportSPKI,
  generateKeyPair,
  importPKCS8,
  importX509,
  jwtVerify,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTHeaderParameters,
} from 'jose';
import type { AppRegistration, EntraDirectory, ResourceApp } from './entra-tenant.ts';
import type { EmulatorContext, EmulatorService, TokenClaims } from './types.ts';
import { authorizationCodeGrant, authorizeEndpoint, refreshTokenGrant, type GrantStore } from './entra-authorize.ts';

export const LOGIN_HOST = 'login.localhost';
/** Audience of managed identity tokens used as federated credentials (public cloud). */
export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';
const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access', 'email']);
/** Entra app tokens live about an hour; `expires_in` is reported one second short. */
export const ENTRA_TOKEN_LIFETIME_SECONDS = 3599;
/** Old keys stay published this long after a rotation unless told otherwise. */
const DEFAULT_ROTATION_GRACE_SECONDS = 3600;

export interface MintOptions {
  expiresInSeconds?: number;
  /** Header `kid` to claim instead of the signing key's own (to test an unknown kid). */
  kid?: string;
}

export interface SigningKeyInfo {
  kid: string;
  /** New tokens are signed with it. */
  current: boolean;
  /** In the JWKS now. */
  published: boolean;
  /** When it leaves the JWKS (epoch ms), after a rotation. */
  retiresAt?: number;
}

export type TokenProblem = 'malformed' | 'alg_not_allowed' | 'unknown_key' | 'bad_signature' | 'expired' | 'not_yet_valid';
export type TokenCheck = { claims: TokenClaims; header: JWTHeaderParameters } | { problem: TokenProblem };

/** Signs and checks every token the emulator hands out (RS256; rotating keys). */
export interface TokenIssuer {
  /** Published keys: the current one and rotated ones still within their grace. */
  jwks(): { keys: JWK[] };
  sign(claims: Partial<TokenClaims> & { aud: string }, options?: MintOptions): Promise<string>;
  /** Claims of a valid token for one of `audiences` (trailing slashes ignored), else null. */
  verify(token: string, audiences: string | string[]): Promise<TokenClaims | null>;
  /** Signature by a published key and time validity (five minutes' skew, as Entra), without audience. */
  check(token: string): Promise<TokenCheck>;
  /** A new current key, published at once; previous keys stay published for `graceSeconds` (default an hour). */
  rotate(options?: { graceSeconds?: number }): Promise<string>;
  /** Signed by a key that is never published: validators must find no matching `kid`. */
  signWithUnpublishedKey(claims: Partial<TokenClaims> & { aud: string }, options?: MintOptions): Promise<string>;
  /** Signed by the current key with another RSA algorithm (RS384, PS256, …), which validators must refuse. */
  signWithAlgorithm(alg: string, claims: Partial<TokenClaims> & { aud: string }, options?: MintOptions): Promise<string>;
  /** SPKI PEM of the current key: what an attacker would use as an HMAC secret. */
  publicKeyPem(): string;
  currentKid(): string;
  keys(): SigningKeyInfo[];
}

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  published: JWK;
  pem: string;
  pkcs8: string;
  retiresAt?: number;
}

async function createSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    kid,
    privateKey,
    publicKey,
    published: { kty: 'RSA', use: 'sig', kid, x5t: kid, n: publicJwk.n, e: publicJwk.e },
    pem: await exportSPKI(publicKey),
    pkcs8: await exportPKCS8(privateKey),
  };
}

export async function createTokenIssuer(): Promise<TokenIssuer> {
  let current = await createSigningKey();
  let keys = [current];
  let unpublished: SigningKey | undefined;
  const isPublished = (key: SigningKey) => key.retiresAt === undefined || key.retiresAt > Date.now();
  const publishedKey = (kid: unknown) => keys.find((key) => key.kid === kid && isPublished(key));

  const check = async (token: string): Promise<TokenCheck> => {
    let header: JWTHeaderParameters;
    try {
      header = decodeProtectedHeader(token) as JWTHeaderParameters;
      decodeJwt(token);
    } catch {
      return { problem: 'malformed' };
    }
    if (header.alg !== 'RS256') return { problem: 'alg_not_allowed' };
    const key = publishedKey(header.kid);
    if (!key) return { problem: 'unknown_key' };
    try {
      const { payload } = await jwtVerify(token, key.publicKey, { algorithms: ['RS256'], clockTolerance: 300 });
      return { claims: payload as TokenClaims, header };
    } catch (error) {
      const code = (error as { code?: string; claim?: string }).code;
      if (code === 'ERR_JWT_EXPIRED') return { problem: 'expired' };
      if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') return { problem: 'not_yet_valid' };
      return { problem: code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' ? 'bad_signature' : 'malformed' };
    }
  };

  return {
    jwks: () => ({ keys: keys.filter(isPublished).map((key) => key.published) }),
    sign: (claims, options) => signToken(current.privateKey, 'RS256', current.kid, claims, options),
    async verify(token, audiences) {
      const accepted = (Array.isArray(audiences) ? audiences : [audiences]).map(withoutTrailingSlash);
      const result = await check(token);
      if (!('claims' in result) || typeof result.claims.aud !== 'string') return null;
      return accepted.includes(withoutTrailingSlash(result.claims.aud)) ? result.claims : null;
    },
    check,
    async rotate({ graceSeconds = DEFAULT_ROTATION_GRACE_SECONDS } = {}) {
      const next = await createSigningKey();
      const retiresAt = Date.now() + graceSeconds * 1000;
      for (const key of keys) key.retiresAt = Math.min(key.retiresAt ?? Number.POSITIVE_INFINITY, retiresAt);
      keys = [...keys.filter(isPublished), next];
      current = next;
      return next.kid;
    },
    async signWithUnpublishedKey(claims, options) {
      unpublished ??= await createSigningKey();
      return signToken(unpublished.privateKey, 'RS256', unpublished.kid, claims, options);
    },
    async signWithAlgorithm(alg, claims, options) {
      return signToken(await importPKCS8(current.pkcs8, alg), alg, current.kid, claims, options);
    },
    publicKeyPem: () => current.pem,
    currentKid: () => current.kid,
    keys: () =>
      keys.map((key) => ({
        kid: key.kid,
        current: key === current,
        published: isPublished(key),
        ...(key.retiresAt === undefined ? {} : { retiresAt: key.retiresAt }),
      })),
  };
}

async function signToken(
  key: CryptoKey | Uint8Array,
  alg: string,
  kid: string,
  claims: Partial<TokenClaims> & { aud: string },
  { expiresInSeconds = 3600, kid: claimedKid }: MintOptions = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const headerKid = claimedKid ?? kid;
  // Entra back-dates nbf/iat by five minutes to absorb clock skew.
  return new SignJWT({ iat: now - 300, nbf: now - 300, exp: now + expiresInSeconds, ...claims })
    .setProtectedHeader({ typ: 'JWT', alg, x5t: headerKid, kid: headerKid })
    .sign(key);
}

/** A JWT with `alg: none` and an empty signature, for tests of validators. */
export function craftUnsecuredJwt(payload: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
  return `${encode({ typ: 'JWT', alg: 'none', ...header })}.${encode(payload)}.`;
}

/** A JWT "signed" with HS256 using `secret` (e.g. the issuer's public key PEM): the algorithm-confusion attack. */
export function craftHs256Jwt(payload: Record<string, unknown>, secret: string, kid?: string): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ typ: 'JWT', alg: 'HS256', ...(kid ? { kid } : {}) }).sign(new TextEncoder().encode(secret));
}

export function withoutTrailingSlash(value: string): string {
  return value.replace(/\/+$/, '');
}

/** Issuer of Entra v1 access tokens, the kind Azure resource providers receive. */
export function v1Issuer(tenantId: string): string {
  return `https://sts.windows.net/${tenantId}/`;
}

/** Issuer advertised by this emulator's OIDC document (v2 tokens, e.g. for the product's own API). */
export function v2Issuer(ctx: Pick<EmulatorContext, 'origin'>, tenantId: string): string {
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
    uti: uti(),
    ver: '1.0',
    ...extra,
  };
}

/** Entra's unique token identifier claim. */
export function uti(): string {
  return randomUUID().replaceAll('-', '');
}

/** A stable GUID derived from `seed`, standing in for a service principal's object id. */
export function guidFrom(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** An OAuth error body shaped like Entra's (`AADSTS` codes). */
export function oauthError(status: number, error: string, code: number, description: string, extra: Record<string, unknown> = {}): Response {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  return Response.json(
    {
      error,
      error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
      ...extra,
    },
    { status },
  );
}

export interface EntraOptions {
  directory: EntraDirectory;
  issuer: TokenIssuer;
}

export function createEntraService({ directory, issuer }: EntraOptions): EmulatorService {
  const grants: GrantStore = { codes: new Map(), refreshTokens: new Map() };
  return {
    name: 'entra',
    hostPattern: LOGIN_HOST,
    matches: (hostname) => hostname === LOGIN_HOST,
    async handle(req, ctx) {
      const url = new URL(req.url);
      const [first = '', ...rest] = url.pathname.split('/').filter(Boolean);
      const tenant = first.toLowerCase();
      const route = `${req.method} /${rest.join('/')}`;
      if (route === 'GET /discovery/instance' && tenant === 'common') return instanceDiscovery(url, ctx, directory.homeTenantId);
      // Entra serves no RFC 8414 document (`/.well-known/oauth-authorization-server/<tenant>/v2.0`): clients fall back to OIDC.
      if (tenant === '.well-known') return new Response('Not Found', { status: 404 });
      if (!directory.hasTenant(tenant) && !['common', 'organizations'].includes(tenant)) {
        return oauthError(400, 'invalid_tenant', 90002, `Tenant '${first}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
      }
      switch (route) {
        case 'GET /v2.0/.well-known/openid-configuration':
          return Response.json(openIdConfiguration(ctx, tenant, directory));
        case 'GET /.well-known/openid-configuration':
          return Response.json(v1OpenIdConfiguration(ctx, tenant, directory));
        case 'GET /discovery/v2.0/keys':
        case 'GET /discovery/keys':
          return Response.json(issuer.jwks());
        case 'GET /oauth2/v2.0/authorize':
          return authorizeEndpoint(url, tenant, directory, grants);
        case 'POST /oauth2/v2.0/token':
          return tokenEndpoint(req, tenant, ctx, { directory, issuer }, grants);
        default:
          return oauthError(404, 'invalid_request', 900561, `The endpoint '${route}' is not emulated.`);
      }
    },
  };
}

function openIdConfiguration(ctx: EmulatorContext, tenant: string, directory: EntraDirectory) {
  const base = `${ctx.origin(LOGIN_HOST)}/${tenant}`;
  // `common` documents keep the placeholder, tenant documents name the tenant, as Entra does.
  const issuerTenant = directory.hasTenant(tenant) ? tenant : '{tenantid}';
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

/** The v1 document (`/<tenant>/.well-known/openid-configuration`): issuer `https://sts.windows.net/<tenant>/`. */
function v1OpenIdConfiguration(ctx: EmulatorContext, tenant: string, directory: EntraDirectory) {
  const base = `${ctx.origin(LOGIN_HOST)}/${tenant}`;
  return {
    issuer: v1Issuer(directory.hasTenant(tenant) ? tenant : '{tenantid}'),
    authorization_endpoint: `${base}/oauth2/authorize`,
    token_endpoint: `${base}/oauth2/token`,
    jwks_uri: `${base}/discovery/keys`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    response_modes_supported: ['query', 'fragment', 'form_post'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'token id_token', 'token'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
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

export interface TokenRequest {
  form: URLSearchParams;
  tenant: string;
  ctx: EmulatorContext;
  directory: EntraDirectory;
  issuer: TokenIssuer;
}

async function tokenEndpoint(req: Request, tenant: string, ctx: EmulatorContext, { directory, issuer }: EntraOptions, grants: GrantStore): Promise<Response> {
  const form = new URLSearchParams(await req.text());
  const grantType = form.get('grant_type');
  const request: TokenRequest = { form, tenant, ctx, directory, issuer };
  if (grantType === 'client_credentials') return clientCredentialsGrant(request);
  if (grantType === JWT_BEARER_GRANT) return onBehalfOfGrant(request);
  if (grantType === 'authorization_code') return authorizationCodeGrant(request, grants, req.headers.get('origin'));
  if (grantType === 'refresh_token') return refreshTokenGrant(request, grants, req.headers.get('origin'));
  return oauthError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType}'.`);
}

async function clientCredentialsGrant({ form, tenant, ctx, directory, issuer }: TokenRequest): Promise<Response> {
  if (!directory.hasTenant(tenant)) {
    return oauthError(400, 'invalid_request', 90002, `Tenant '${tenant}' cannot be used with client credentials.`);
  }
  const clientId = form.get('client_id');
  if (!clientId) return oauthError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.");
  // Registered apps are held to their credentials; any other client id is accepted with any secret or assertion.
  const app = directory.app(clientId);
  let appidacr: '1' | '2' | null;
  if (app) {
    const authenticated = await authenticateClient(form, app, { tenant, ctx, directory, issuer });
    if (authenticated instanceof Response) return authenticated;
    appidacr = authenticated;
  } else {
    appidacr = clientAuthenticationMethod(form);
  }
  if (!appidacr) {
    return oauthError(401, 'invalid_client', 7000216, "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.");
  }
  const scope = form.get('scope') ?? '';
  if (!/^\S+\/\.default$/.test(scope)) {
    return oauthError(400, 'invalid_scope', 1002012, `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
  }
  const resource = scope.slice(0, -'/.default'.length);
  const identity = { tenantId: tenant, clientId, principalId: guidFrom(`${tenant}/${clientId}`) };
  const accessToken = await issuer.sign(appTokenClaims(identity, resource, { appidacr }), {
    expiresInSeconds: ENTRA_TOKEN_LIFETIME_SECONDS + 1,
  });
  return tokenResponse(accessToken, undefined);
}

/** Entra's `appidacr` for unregistered clients: "1" for a client secret, "2" for a client assertion, else null. */
function clientAuthenticationMethod(form: URLSearchParams): '1' | '2' | null {
  if (form.get('client_secret')) return '1';
  const assertion = form.get('client_assertion') ?? '';
  if (form.get('client_assertion_type') === CLIENT_ASSERTION_TYPE && assertion.split('.').length === 3) return '2';
  return null;
}

export function tokenResponse(accessToken: string, scope: string | undefined, extra: Record<string, unknown> = {}): Response {
  return Response.json({
    token_type: 'Bearer',
    ...(scope === undefined ? {} : { scope }),
    expires_in: ENTRA_TOKEN_LIFETIME_SECONDS,
    ext_expires_in: ENTRA_TOKEN_LIFETIME_SECONDS,
    access_token: accessToken,
    ...extra,
  });
}

type ClientContext = Pick<TokenRequest, 'tenant' | 'ctx' | 'directory' | 'issuer'>;

/**
 * Client authentication of a registered app: a client assertion (a
 * federated credential's token, or a JWT signed with a registered
 * certificate) or a client secret. Returns `appidacr` or the error.
 */
export async function authenticateClient(form: URLSearchParams, app: AppRegistration, context: ClientContext): Promise<'1' | '2' | Response> {
  const assertion = form.get('client_assertion');
  if (assertion) {
    if (form.get('client_assertion_type') !== CLIENT_ASSERTION_TYPE) {
      return oauthError(400, 'invalid_request', 50027, `Invalid client_assertion_type; it must be '${CLIENT_ASSERTION_TYPE}'.`);
    }
    let header: JWTHeaderParameters;
    let claims: TokenClaims;
    try {
      header = decodeProtectedHeader(assertion) as JWTHeaderParameters;
      claims = decodeJwt(assertion) as TokenClaims;
    } catch {
      return oauthError(400, 'invalid_request', 50027, 'JWT token is invalid or malformed.');
    }
    // private_key_jwt names the app as issuer and subject; a federated credential's token names its own issuer.
    const certificateAssertion = claims.iss === app.clientId && claims.sub === app.clientId;
    const problem = certificateAssertion
      ? await checkCertificateAssertion(assertion, header, claims, app, context)
      : await checkFederatedAssertion(assertion, claims, app, context);
    return problem ?? '2';
  }
  const secret = form.get('client_secret');
  if (secret) {
    if (app.secrets.includes(secret)) return '1';
    return oauthError(401, 'invalid_client', 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`);
  }
  return oauthError(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
}

/** A federated identity credential: the presented token's issuer, subject and audience must match one the app trusts. */
async function checkFederatedAssertion(assertion: string, claims: TokenClaims, app: AppRegistration, { issuer }: ClientContext): Promise<Response | null> {
  const audiences = [claims.aud].flat().filter((value): value is string => typeof value === 'string');
  const credentials = app.federatedCredentials;
  const described = `Assertion Issuer: '${claims.iss}'. Assertion Subject: '${claims.sub}'. Assertion Audience: '${audiences.join(',')}'.`;
  if (credentials.length === 0) {
    return oauthError(400, 'invalid_request', 70021, `No matching federated identity record found for presented assertion. ${described} https://learn.microsoft.com/entra/workload-id/workload-identity-federation`);
  }
  const byIssuer = credentials.filter((credential) => credential.issuer === claims.iss);
  if (byIssuer.length === 0) {
    return oauthError(401, 'invalid_client', 700211, `No matching federated identity record found for presented assertion issuer '${claims.iss}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.`);
  }
  const bySubject = byIssuer.filter((credential) => credential.subject === claims.sub);
  if (bySubject.length === 0) {
    return oauthError(401, 'invalid_client', 700213, `No matching federated identity record found for presented assertion subject '${claims.sub}'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion.`);
  }
  if (!bySubject.some((credential) => credential.audiences.some((audience) => audiences.includes(audience)))) {
    return oauthError(401, 'invalid_client', 700212, `No matching federated identity record found for presented assertion audience '${audiences.join(',')}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.`);
  }
  // Only this emulator's issuer is trusted to have signed it (the managed identity endpoint's tokens).
  const checked = await issuer.check(assertion);
  if ('problem' in checked) {
    if (checked.problem === 'expired' || checked.problem === 'not_yet_valid') {
      return oauthError(400, 'invalid_client', 700024, 'Client assertion is not within its valid time range.');
    }
    return oauthError(401, 'invalid_client', 700027, `Client assertion failed signature validation. [Reason - ${checked.problem}]`);
  }
  return null;
}

/** `private_key_jwt` with a registered certificate: header thumbprint, signature, iss = sub = client id, aud = this token endpoint. */
async function checkCertificateAssertion(
  assertion: string,
  header: JWTHeaderParameters,
  claims: TokenClaims,
  app: AppRegistration,
  { tenant, ctx }: ClientContext,
): Promise<Response | null> {
  const thumbprint = (header['x5t#S256'] as string | undefined) ?? header.x5t;
  const certificate = app.certificates.find((candidate) => candidate.x5tS256 === thumbprint || candidate.x5t === thumbprint);
  if (!certificate || !header.alg || !['RS256', 'PS256'].includes(header.alg)) {
    return oauthError(401, 'invalid_client', 700027, `Client assertion failed signature validation. [Reason - The key was not found., Thumbprint of key used by client: '${thumbprint ?? ''}']`);
  }
  try {
    // Five minutes' skew, as Entra (msal rounds its clock, so nbf can be half a second ahead).
    await jwtVerify(assertion, await importX509(certificate.pem, header.alg), { algorithms: [header.alg], clockTolerance: 300 });
  } catch (error) {
    const code = (error as { code?: string }).code;
    return code === 'ERR_JWT_EXPIRED' || code === 'ERR_JWT_CLAIM_VALIDATION_FAILED'
      ? oauthError(400, 'invalid_client', 700024, 'Client assertion is not within its valid time range.')
      : oauthError(401, 'invalid_client', 700027, 'Client assertion failed signature validation.');
  }
  if (claims.iss !== app.clientId || claims.sub !== app.clientId) {
    return oauthError(401, 'invalid_client', 700021, "Client assertion application identifier doesn't match 'client_id' parameter.");
  }
  const endpoints = [`${ctx.origin(LOGIN_HOST)}/${tenant}/oauth2/v2.0/token`, `${ctx.origin(LOGIN_HOST)}/${tenant}/oauth2/token`];
  if (!endpoints.includes(String(claims.aud))) {
    return oauthError(401, 'invalid_client', 700027, `Client assertion audience claim does not match Realm issuer. Expected '${endpoints[0]}'.`);
  }
  return null;
}

/**
 * The on-behalf-of grant: a middle-tier API (registered, authenticated as
 * above) exchanges a user's token for itself (`assertion`) for a token for
 * a downstream resource (`scope`), carrying the same user.
 */
async function onBehalfOfGrant(request: TokenRequest): Promise<Response> {
  const { form, tenant, directory } = request;
  if (!directory.hasTenant(tenant)) {
    return oauthError(400, 'invalid_request', 90002, `Tenant '${tenant}' cannot be used with the on-behalf-of flow; name the tenant.`);
  }
  const clientId = form.get('client_id');
  if (!clientId) return oauthError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.");
  if (form.get('requested_token_use') !== 'on_behalf_of') {
    return oauthError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'requested_token_use'.");
  }
  const app = directory.app(clientId);
  if (!app) {
    return oauthError(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`);
  }
  const authenticated = await authenticateClient(form, app, request);
  if (authenticated instanceof Response) return authenticated;
  const user = await checkUserAssertion(form.get('assertion'), app, request);
  if (user instanceof Response) return user;
  const scopes = resolveScopes(form.get('scope') ?? '', directory);
  if (scopes instanceof Response) return scopes;
  const refusal = checkAccess(app, user, scopes, request);
  if (refusal) return refusal;
  return issueOnBehalfOfToken(app, user, scopes, authenticated, request);
}

async function checkUserAssertion(assertion: string | null, app: AppRegistration, { tenant, issuer }: TokenRequest): Promise<TokenClaims | Response> {
  if (!assertion) return oauthError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'assertion'.");
  const checked = await issuer.check(assertion);
  if ('problem' in checked) {
    if (checked.problem === 'expired') {
      return oauthError(400, 'invalid_grant', 500133, 'Assertion is not within its valid time range. Ensure that the access token is not expired before using it for user assertion, or request a new token.');
    }
    const reason = checked.problem === 'unknown_key' ? 'The key was not found.' : checked.problem;
    return oauthError(400, 'invalid_grant', 50013, `Assertion failed signature validation. [Reason - ${reason}]`);
  }
  const claims = checked.claims;
  const expected = [app.clientId, ...app.identifierUris];
  if (!expected.includes(String(claims.aud))) {
    return oauthError(400, 'invalid_grant', 50013, `Assertion audience does not match the Client app presenting the assertion. The audience in the assertion was '${String(claims.aud)}' and the expected audience is '${app.clientId}' or one of the Application Ids of the Client app.`);
  }
  if (String(claims.tid).toLowerCase() !== tenant) {
    return oauthError(400, 'invalid_grant', 50013, `Assertion is not issued for tenant '${tenant}'.`);
  }
  // The emulator's wording: an app-only token names no user to act for.
  if (claims.idtyp === 'app' || (claims.scp === undefined && claims.oid === claims.sub)) {
    return oauthError(400, 'invalid_grant', 50013, 'Assertion contains no user; an app-only token cannot be exchanged on behalf of a user.');
  }
  return claims;
}

interface ResolvedScopes {
  resource: ResourceApp;
  /** The resource as requested (the issued token's `aud`). */
  audience: string;
  /** Delegated permissions asked for; empty for `/.default`. */
  permissions: string[];
  requested: string[];
}

/** `scope`: OIDC scopes aside, one resource, either `<resource>/.default` or `<resource>/<permission>` (bare names are Graph's). */
function resolveScopes(scope: string, directory: EntraDirectory): ResolvedScopes | Response {
  const requested = scope.split(/\s+/).filter((item) => item && !OIDC_SCOPES.has(item.toLowerCase()));
  if (requested.length === 0) {
    return oauthError(400, 'invalid_scope', 70011, "The provided request must include a 'scope' input parameter.");
  }
  const parsed = requested.map((item) => {
    const slash = item.lastIndexOf('/');
    return slash < 0 ? { audience: 'https://graph.microsoft.com', permission: item } : { audience: item.slice(0, slash), permission: item.slice(slash + 1) };
  });
  const audience = parsed[0]!.audience;
  if (parsed.some((item) => item.audience !== audience)) {
    return oauthError(400, 'invalid_scope', 28000, 'Provided value for the input parameter scope is not valid because it contains more than one resource.');
  }
  const resource = directory.resource(audience);
  if (!resource) {
    return oauthError(400, 'invalid_resource', 500011, `The resource principal named ${audience} was not found in the tenant. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`);
  }
  const permissions = parsed.map((item) => item.permission).filter((permission) => permission !== '.default');
  const unknown = permissions.find((permission) => !resource.delegatedPermissions.includes(permission));
  if (unknown) {
    return oauthError(400, 'invalid_scope', 70011, `The provided value for the input parameter 'scope' is not valid. The scope ${audience}/${unknown} is not valid.`);
  }
  return { resource, audience, permissions, requested };
}

/** Consent, user assignment and Conditional Access, in that order. */
function checkAccess(app: AppRegistration, user: TokenClaims, scopes: ResolvedScopes, { directory }: TokenRequest): Response | null {
  const consented = directory.consentedScopes(app.clientId, scopes.resource.appId, String(user.oid));
  const missing = scopes.permissions.filter((permission) => !consented.includes(permission));
  if (consented.length === 0 || missing.length > 0) {
    return oauthError(400, 'invalid_grant', 65001, `The user or administrator has not consented to use the application with ID '${app.clientId}' named '${app.displayName}'. Send an interactive authorization request for this user and resource.`, { suberror: 'consent_required' });
  }
  if (scopes.resource.assignmentRequired && !scopes.resource.assignedUsers.has(String(user.oid))) {
    const upn = String(user.upn ?? user.preferred_username ?? user.oid);
    return oauthError(400, 'invalid_grant', 50105, `Your administrator has configured the application ${scopes.resource.displayName} ('${scopes.resource.appId}') to block users unless they are specifically granted ('assigned') access to the application. The signed in user '${upn}' is blocked because they are not a direct member of a group with access, nor had access directly assigned by an administrator. Please contact your administrator to assign access to this application.`);
  }
  const challenge = directory.claimsChallengeFor(scopes.resource, user);
  if (challenge) {
    const code = challenge.code ?? 50079;
    const message =
      code === 50076
        ? `Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '${scopes.resource.appId}'.`
        : `Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication to access '${scopes.resource.appId}'.`;
    return oauthError(400, 'interaction_required', code, message, { suberror: 'basic_action', claims: challenge.claims });
  }
  return null;
}

async function issueOnBehalfOfToken(app: AppRegistration, user: TokenClaims, scopes: ResolvedScopes, appidacr: '1' | '2', { tenant, directory, issuer, form }: TokenRequest): Promise<Response> {
  const oid = String(user.oid);
  const known = directory.user(oid);
  const upn = known?.upn ?? (user.upn as string | undefined) ?? (user.preferred_username as string | undefined);
  const name = known?.name ?? (user.name as string | undefined);
  const granted = scopes.permissions.length > 0 ? scopes.permissions : directory.consentedScopes(app.clientId, scopes.resource.appId, oid);
  const claims: TokenClaims = {
    aud: scopes.audience,
    iss: v1Issuer(tenant),
    idp: v1Issuer(tenant),
    sub: guidFrom(`${oid}/${scopes.resource.appId}`),
    oid,
    tid: tenant,
    appid: app.clientId,
    appidacr,
    scp: granted.join(' '),
    idtyp: 'user',
    ver: '1.0',
    uti: uti(),
    acr: '1',
    amr: Array.isArray(user.amr) ? user.amr : ['pwd'],
    ...(upn ? { upn, unique_name: upn } : {}),
    ...(name ? { name } : {}),
  };
  const accessToken = await issuer.sign(claims, { expiresInSeconds: ENTRA_TOKEN_LIFETIME_SECONDS + 1 });
  const scopeList = [...granted.map((permission) => `${scopes.audience}/${permission}`), ...scopes.requested.filter((item) => item.endsWith('/.default'))];
  const offline = (form.get('scope') ?? '').split(/\s+/).includes('offline_access');
  const clientInfo = base64url.encode(JSON.stringify({ uid: oid, utid: tenant }));
  return tokenResponse(accessToken, scopeList.join(' '), {
    ...(offline ? { refresh_token: `emulator-rt.${uti()}` } : {}),
    client_info: clientInfo,
  });
}
