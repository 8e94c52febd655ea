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

export const LOGIN_HOST = 'login.localhost';
/** Audience of managed identity tokens used as federated credentials (public cloud). */
export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';
const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access', 'email']);
/** Entra app tokens live about an hour; `expires_in` is reported one second short. */
const ENTRA_TOKEN_LIFETIME_SECONDS = 3599;
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

function withoutTrailingSlash(value: string): string {
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

interface TokenRequest {
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

function tokenResponse(accessToken: string, scope: string | undefined, extra: Record<string, unknown> = {}): Response {
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
async function authenticateClient(form: URLSearchParams, app: AppRegistration, context: ClientContext): Promise<'1' | '2' | Response> {
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

// ---------------------------------------------------------------------------
// Authorization code flow with PKCE, and refresh tokens (v2 endpoints)
// ---------------------------------------------------------------------------

/** What a user granted a client at `/authorize`, carried by its code and refresh tokens. */
interface DelegatedGrant {
  clientId: string;
  tenantId: string;
  userId: string;
  /** The API (an app registration exposing scopes) the token is for. */
  api: AppRegistration;
  /** The API as the scope named it (`api://<id>` or the bare client id), echoed in `scope`. */
  audience: string;
  /** Bare names of the granted delegated scopes. */
  permissions: string[];
  /** OpenID scopes asked for (`openid`, `profile`, `email`, `offline_access`). */
  oidc: string[];
  /** Redeemed from a single-page-application redirect URI (cross-origin only, 24 h refresh tokens). */
  spa: boolean;
  nonce?: string;
}

interface AuthorizationCode extends DelegatedGrant {
  redirectUri: string;
  codeChallenge?: string;
  codeChallengeMethod?: string;
  expiresAt: number;
  redeemed: boolean;
}

interface RefreshTokenRecord extends DelegatedGrant {
  expiresAt: number;
}

export interface GrantStore {
  codes: Map<string, AuthorizationCode>;
  refreshTokens: Map<string, RefreshTokenRecord>;
}

/** Entra's refresh tokens: 24 hours for single-page apps, 90 days otherwise. */
const SPA_REFRESH_TOKEN_SECONDS = 24 * 3600;
const REFRESH_TOKEN_SECONDS = 90 * 24 * 3600;

interface AuthorizeFailure {
  error: string;
  code: number;
  description: string;
  extra?: Record<string, string>;
}

/** An Entra sign-in error page: HTTP 400, no redirect (used when the redirect URI cannot be trusted). */
function errorPage(code: number, description: string): Response {
  const text = `AADSTS${code}: ${description} Trace ID: ${randomUUID()} Correlation ID: ${randomUUID()} Timestamp: ${new Date().toISOString()}`;
  const escaped = text.replace(/[&<>"]/g, (char) => `&#${char.charCodeAt(0)};`);
  return new Response(`<!DOCTYPE html><html><head><title>Sign in to your account</title></head><body><h1>Sorry, but we're having trouble signing you in.</h1><p id="error">${escaped}</p></body></html>`, {
    status: 400,
    headers: { 'content-type': 'text/html; charset=utf-8' },
  });
}

function redirectTo(redirectUri: string, params: Record<string, string | undefined>): Response {
  const target = new URL(redirectUri);
  for (const [key, value] of Object.entries(params)) if (value !== undefined) target.searchParams.set(key, value);
  return new Response(null, { status: 302, headers: { location: target.toString(), 'cache-control': 'no-store' } });
}

function redirectError(redirectUri: string, state: string | undefined, failure: AuthorizeFailure): Response {
  return redirectTo(redirectUri, {
    error: failure.error,
    error_description: `AADSTS${failure.code}: ${failure.description} Trace ID: ${randomUUID()} Correlation ID: ${randomUUID()} Timestamp: ${new Date().toISOString()}`,
    error_uri: `https://login.microsoftonline.com/error?code=${failure.code}`,
    ...failure.extra,
    state,
  });
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const samePath = (a: string, b: string) => (a === '' ? '/' : a) === (b === '' ? '/' : b);

/**
 * Which platform a redirect URI is registered on (`web`/`public` or `spa`), or null. Exact match;
 * for a public client a loopback URI registered without a port accepts any port on the same path.
 */
export function matchRedirectUri(app: AppRegistration, redirectUri: string): 'redirect' | 'spa' | null {
  if (app.spaRedirectUris.includes(redirectUri)) return 'spa';
  if (app.redirectUris.includes(redirectUri)) return 'redirect';
  if (!app.publicClient || !URL.canParse(redirectUri)) return null;
  const requested = new URL(redirectUri);
  if (requested.protocol !== 'http:' || requested.username || requested.password || requested.hash || !LOOPBACK_HOSTS.has(requested.hostname)) return null;
  const loopbackMatch = app.redirectUris.some((registered) => {
    if (!URL.canParse(registered)) return false;
    const candidate = new URL(registered);
    return (
      candidate.protocol === 'http:' &&
      candidate.port === '' &&
      candidate.hostname === requested.hostname &&
      samePath(candidate.pathname, requested.pathname) &&
      candidate.search === requested.search
    );
  });
  return loopbackMatch ? 'redirect' : null;
}

interface DelegatedScopes {
  api: AppRegistration;
  audience: string;
  permissions: string[];
  oidc: string[];
}

/** v2 `scope` for the code and refresh grants: OpenID scopes plus one API's scopes (`api://<id>/<name>`, `<id>/<name>` or `/.default`). */
function resolveDelegatedScopes(scope: string, directory: EntraDirectory): DelegatedScopes | AuthorizeFailure {
  const items = scope.split(/\s+/).filter(Boolean);
  const oidc = items.filter((item) => OIDC_SCOPES.has(item.toLowerCase())).map((item) => item.toLowerCase());
  const requested = items.filter((item) => !OIDC_SCOPES.has(item.toLowerCase()));
  if (requested.length === 0) {
    return { error: 'invalid_scope', code: 70011, description: "The provided value for the input parameter 'scope' is not valid. The emulator issues tokens for its app registrations' scopes only; name one, e.g. api://<client-id>/user_impersonation." };
  }
  const parsed = requested.map((item) => {
    const slash = item.lastIndexOf('/');
    return slash < 0 ? { audience: 'https://graph.microsoft.com', permission: item, raw: item } : { audience: item.slice(0, slash), permission: item.slice(slash + 1), raw: item };
  });
  const audience = parsed[0]!.audience;
  if (parsed.some((item) => withoutTrailingSlash(item.audience).toLowerCase() !== withoutTrailingSlash(audience).toLowerCase())) {
    return { error: 'invalid_scope', code: 28000, description: 'Provided value for the input parameter scope is not valid because it contains more than one resource.' };
  }
  const api = directory.appByIdentifier(audience);
  if (!api) {
    const known = directory.resource(audience);
    const unknownPermission = known && parsed.find((item) => item.permission !== '.default' && !known.delegatedPermissions.includes(item.permission));
    if (unknownPermission || (known && parsed.some((item) => !item.raw.includes('/')))) {
      // Bare names are Microsoft Graph's: `user_impersonation` alone is not a Graph scope.
      const bad = unknownPermission ?? parsed[0]!;
      return { error: 'invalid_scope', code: 70011, description: `The provided value for the input parameter 'scope' is not valid. The scope '${bad.raw}' does not exist on the resource '${known.appId}'.` };
    }
    if (known) {
      return { error: 'invalid_scope', code: 70011, description: `The provided value for the input parameter 'scope' is not valid. The emulator's authorization code flow issues tokens for app registrations only, not for '${known.displayName}'.` };
    }
    return { error: 'invalid_resource', code: 500011, description: `The resource principal named ${audience} was not found in the tenant. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.` };
  }
  const names = parsed.map((item) => item.permission);
  const unknown = names.find((name) => name !== '.default' && !api.scopes.includes(name));
  if (unknown) {
    return { error: 'invalid_scope', code: 70011, description: `The provided value for the input parameter 'scope' is not valid. The scope '${audience}/${unknown}' does not exist on the resource '${api.clientId}'.` };
  }
  const permissions = names.includes('.default') ? [...api.scopes] : [...new Set(names)];
  return { api, audience, permissions, oidc };
}

/** Since 2026 Entra refuses an RFC 8707 `resource` next to v2 scopes unless it names the scopes' own API. */
function checkResourceParameter(resource: string | null, scopes: DelegatedScopes): AuthorizeFailure | null {
  if (resource === null) return null;
  const names = [scopes.api.clientId, ...scopes.api.identifierUris];
  if (names.some((name) => withoutTrailingSlash(name).toLowerCase() === withoutTrailingSlash(resource).toLowerCase())) return null;
  return { error: 'invalid_target', code: 9010010, description: "The resource parameter provided in the request doesn't match with the requested scopes." };
}

/** Pre-authorization, admin or user consent; a client that can show a consent prompt gets user consent recorded. */
function checkDelegatedConsent(clientId: string, userId: string, scopes: DelegatedScopes, directory: EntraDirectory, { prompt }: { prompt: boolean }): AuthorizeFailure | null {
  const preAuthorized = scopes.api.preAuthorizedApplications.find((entry) => entry.appId === clientId.toLowerCase())?.scopes ?? [];
  const consented = directory.consentedScopes(clientId, scopes.api.clientId, userId);
  const missing = scopes.permissions.filter((name) => !preAuthorized.includes(name) && !consented.includes(name));
  if (missing.length === 0 || clientId.toLowerCase() === scopes.api.clientId) return null;
  const client = directory.app(clientId);
  if (prompt && client?.consentPrompt) {
    directory.grantConsent(clientId, scopes.api.clientId, missing, { userId });
    return null;
  }
  return {
    // At /authorize the OpenID error itself; at the token endpoint invalid_grant with the suberror, as Entra.
    error: prompt ? 'consent_required' : 'invalid_grant',
    code: 65001,
    description: `The user or administrator has not consented to use the application with ID '${clientId}' named '${client?.displayName ?? clientId}'. Send an interactive authorization request for this user and resource.`,
    ...(prompt ? {} : { extra: { suberror: 'consent_required' } }),
  };
}

function authorizeEndpoint(url: URL, tenant: string, directory: EntraDirectory, grants: GrantStore): Response {
  const params = url.searchParams;
  const clientId = params.get('client_id');
  if (!clientId) return errorPage(900144, "The request body must contain the following parameter: 'client_id'.");
  const app = directory.app(clientId);
  if (!app) {
    return errorPage(700016, `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`);
  }
  const redirectUri = params.get('redirect_uri');
  if (!redirectUri) return errorPage(900144, "The request body must contain the following parameter: 'redirect_uri'.");
  const platform = matchRedirectUri(app, redirectUri);
  if (!platform) {
    return errorPage(50011, `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${app.clientId}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.`);
  }
  const state = params.get('state') ?? undefined;
  const fail = (failure: AuthorizeFailure) => redirectError(redirectUri, state, failure);
  const responseType = params.get('response_type');
  if (!responseType) return fail({ error: 'invalid_request', code: 900144, description: "The request body must contain the following parameter: 'response_type'." });
  if (responseType !== 'code') {
    return fail({ error: 'unsupported_response_type', code: 700054, description: `response_type '${responseType}' is not enabled for the application.` });
  }
  const scope = params.get('scope');
  if (!scope) return fail({ error: 'invalid_request', code: 900144, description: "The request body must contain the following parameter: 'scope'." });
  const scopes = resolveDelegatedScopes(scope, directory);
  if ('error' in scopes) return fail(scopes);
  const resourceProblem = checkResourceParameter(params.get('resource'), scopes);
  if (resourceProblem) return fail(resourceProblem);
  const codeChallenge = params.get('code_challenge') ?? undefined;
  const codeChallengeMethod = codeChallenge === undefined ? undefined : (params.get('code_challenge_method') ?? 'plain');
  if (codeChallenge === undefined && platform === 'spa') {
    return fail({ error: 'invalid_request', code: 9002325, description: 'Proof Key for Code Exchange is required for cross-origin authorization code redemption.' });
  }
  if (codeChallengeMethod !== undefined && codeChallengeMethod !== 'S256' && codeChallengeMethod !== 'plain') {
    return fail({ error: 'invalid_request', code: 9002313, description: `Invalid request. Request is malformed or invalid. The code_challenge_method '${codeChallengeMethod}' is not supported.` });
  }
  if (codeChallenge !== undefined && !/^[A-Za-z0-9._~-]{43,128}$/.test(codeChallenge)) {
    return fail({ error: 'invalid_request', code: 501491, description: 'Invalid size of Code_Challenge parameter.' });
  }
  // No browser: the user named by login_hint (or the directory's default user) signs in at once.
  const loginHint = params.get('login_hint');
  const user = loginHint ? directory.userByUpn(loginHint) : directory.user(directory.defaultSignInUserId);
  if (!user) {
    return errorPage(50034, `The user account ${loginHint ?? directory.defaultSignInUserId} does not exist in the '${tenant}' directory. To sign into this application, the account must be added to the directory.`);
  }
  const tenantId = directory.hasTenant(tenant) ? tenant : user.tenantId;
  if (user.tenantId.toLowerCase() !== tenantId) {
    return fail({ error: 'invalid_request', code: 50020, description: `User account '${user.upn}' from identity provider does not exist in tenant '${tenantId}' and cannot access the application '${app.clientId}'(${app.displayName}) in that tenant.` });
  }
  const consent = checkDelegatedConsent(app.clientId, user.oid, scopes, directory, { prompt: true });
  if (consent) return fail(consent);
  const code = `1.emulator-ac.${base64url.encode(randomUUID() + randomUUID())}`;
  const nonce = params.get('nonce') ?? undefined;
  grants.codes.set(code, {
    clientId: app.clientId,
    tenantId,
    userId: user.oid,
    api: scopes.api,
    audience: scopes.audience,
    permissions: scopes.permissions,
    oidc: scopes.oidc,
    spa: platform === 'spa',
    ...(nonce === undefined ? {} : { nonce }),
    redirectUri,
    ...(codeChallenge === undefined ? {} : { codeChallenge, codeChallengeMethod }),
    expiresAt: Date.now() + directory.authorizationCodeLifetimeSeconds * 1000,
    redeemed: false,
  });
  // Entra's authorization response carries no `iss` (RFC 9207).
  return redirectTo(redirectUri, { code, state, session_state: randomUUID() });
}

const failure = (status: number, problem: AuthorizeFailure) => oauthError(status, problem.error, problem.code, problem.description, problem.extra ?? {});

/** Who may redeem: public clients and SPAs present no credential; confidential clients authenticate as elsewhere. */
async function authenticateRedeemingClient(app: AppRegistration, spa: boolean, origin: string | null, request: TokenRequest): Promise<Response | null> {
  const { form } = request;
  const presentsCredential = form.has('client_secret') || form.has('client_assertion');
  if (spa) {
    if (!origin) return oauthError(400, 'invalid_request', 9002327, "Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests.");
    if (presentsCredential) return oauthError(401, 'invalid_client', 700025, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.");
    return null;
  }
  if (app.publicClient && !presentsCredential) return null;
  if (app.publicClient) return oauthError(401, 'invalid_client', 700025, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.");
  const authenticated = await authenticateClient(form, app, request);
  return authenticated instanceof Response ? authenticated : null;
}

function pkceMatches(record: AuthorizationCode, verifier: string): boolean {
  const computed = record.codeChallengeMethod === 'S256' ? base64url.encode(createHash('sha256').update(verifier).digest()) : verifier;
  return computed === record.codeChallenge;
}

async function authorizationCodeGrant(request: TokenRequest, grants: GrantStore, origin: string | null): Promise<Response> {
  const { form, tenant, directory } = request;
  const clientId = form.get('client_id');
  if (!clientId) return oauthError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.");
  const app = directory.app(clientId);
  if (!app) {
    return oauthError(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`);
  }
  const code = form.get('code');
  if (!code) return oauthError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'code'.");
  const record = grants.codes.get(code);
  if (!record) return oauthError(400, 'invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.');
  if (record.redeemed) {
    return oauthError(400, 'invalid_grant', 54005, 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.');
  }
  if (Date.now() >= record.expiresAt) {
    return oauthError(400, 'invalid_grant', 70008, 'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.');
  }
  if (record.clientId !== app.clientId) {
    return oauthError(400, 'invalid_grant', 70000, 'Provided grant is invalid or malformed. The authorization code was issued to another client.');
  }
  const redirectUri = form.get('redirect_uri');
  if (redirectUri !== record.redirectUri) {
    return oauthError(400, 'invalid_grant', 500112, `The reply address '${redirectUri ?? ''}' does not match the reply address '${record.redirectUri}' provided when requesting Authorization code.`);
  }
  const scope = form.get('scope');
  const requestedScopes = scope ? resolveDelegatedScopes(scope, directory) : undefined;
  if (requestedScopes && 'error' in requestedScopes) return failure(400, requestedScopes);
  const resourceProblem = checkResourceParameter(form.get('resource'), requestedScopes ?? record);
  if (resourceProblem) return failure(400, resourceProblem);
  const unauthenticated = await authenticateRedeemingClient(app, record.spa, origin, request);
  if (unauthenticated) return unauthenticated;
  if (record.codeChallenge !== undefined) {
    const verifier = form.get('code_verifier');
    if (!verifier) return oauthError(400, 'invalid_grant', 50148, 'The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.');
    if (!pkceMatches(record, verifier)) return oauthError(400, 'invalid_grant', 501481, 'The Code_Verifier does not match the code_challenge supplied in the authorization request.');
  }
  record.redeemed = true;
  return issueDelegatedTokens(record, request, grants);
}

async function refreshTokenGrant(request: TokenRequest, grants: GrantStore, origin: string | null): Promise<Response> {
  const { form, tenant, directory } = request;
  const clientId = form.get('client_id');
  if (!clientId) return oauthError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.");
  const app = directory.app(clientId);
  if (!app) {
    return oauthError(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`);
  }
  const token = form.get('refresh_token');
  if (!token) return oauthError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'refresh_token'.");
  const record = grants.refreshTokens.get(token);
  if (!record) return oauthError(400, 'invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.');
  if (Date.now() >= record.expiresAt) {
    return oauthError(400, 'invalid_grant', 700082, 'The refresh token has expired due to inactivity. The token was issued on a date and was inactive for the maximum inactive time.');
  }
  if (record.clientId !== app.clientId) {
    return oauthError(400, 'invalid_grant', 70000, 'Provided grant is invalid or malformed. The refresh token was issued to another client.');
  }
  const scope = form.get('scope');
  // No scope: the refresh keeps the scopes first granted.
  const requested = scope ? resolveDelegatedScopes(scope, directory) : record;
  if ('error' in requested) return failure(400, requested);
  const resourceProblem = checkResourceParameter(form.get('resource'), requested);
  if (resourceProblem) return failure(400, resourceProblem);
  const consent = checkDelegatedConsent(app.clientId, record.userId, requested, directory, { prompt: false });
  if (consent) return failure(400, consent);
  const unauthenticated = await authenticateRedeemingClient(app, record.spa, origin, request);
  if (unauthenticated) return unauthenticated;
  // Entra does not revoke a refresh token when it is used: the old one stays valid until it expires.
  return issueDelegatedTokens({ ...record, api: requested.api, audience: requested.audience, permissions: requested.permissions, oidc: scope ? requested.oidc : record.oidc }, request, grants);
}

async function issueDelegatedTokens(grant: DelegatedGrant, { directory, issuer, ctx }: TokenRequest, grants: GrantStore): Promise<Response> {
  const user = directory.user(grant.userId);
  const accessToken = await directory.mintApiToken({
    kind: 'user',
    aud: grant.api.clientId,
    tid: grant.tenantId,
    oid: grant.userId,
    sub: guidFrom(`${grant.userId}/${grant.api.clientId}`),
    scp: grant.permissions.join(' '),
    clientAppId: grant.clientId,
    expiresInSeconds: ENTRA_TOKEN_LIFETIME_SECONDS + 1,
  });
  const extra: Record<string, unknown> = {};
  if (grant.oidc.includes('offline_access')) {
    const refreshToken = `1.emulator-rt.${base64url.encode(randomUUID() + randomUUID())}`;
    grants.refreshTokens.set(refreshToken, {
      ...grant,
      expiresAt: Date.now() + (grant.spa ? SPA_REFRESH_TOKEN_SECONDS : REFRESH_TOKEN_SECONDS) * 1000,
    });
    extra.refresh_token = refreshToken;
    if (grant.spa) extra.refresh_token_expires_in = SPA_REFRESH_TOKEN_SECONDS;
  }
  if (grant.oidc.includes('openid')) {
    extra.id_token = await issuer.sign({
      aud: grant.clientId,
      iss: v2Issuer(ctx, grant.tenantId),
      sub: guidFrom(`${grant.userId}/${grant.clientId}`),
      oid: grant.userId,
      tid: grant.tenantId,
      ver: '2.0',
      uti: uti(),
      ...(grant.nonce === undefined ? {} : { nonce: grant.nonce }),
      ...(user && (grant.oidc.includes('profile') || grant.oidc.includes('email')) ? { name: user.name, preferred_username: user.upn } : {}),
      ...(user && grant.oidc.includes('email') ? { email: user.upn } : {}),
    });
  }
  extra.client_info = base64url.encode(JSON.stringify({ uid: grant.userId, utid: grant.tenantId }));
  const scope = grant.permissions.map((name) => `${grant.audience.replace(/\/+$/, '')}/${name}`).join(' ');
  return tokenResponse(accessToken, scope, extra);
}
