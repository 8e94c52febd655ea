/**
 * Emulated Entra, v2 delegated sign-in: the authorization-code flow with
 * PKCE at `/<tenant>/oauth2/v2.0/authorize` and the `authorization_code` and
 * `refresh_token` grants of the token endpoint (emulator/entra.ts routes here).
 */
import { createHash, randomUUID } from 'node:crypto';
import { base64url } from 'jose';
import {
  authenticateClient,
  ENTRA_TOKEN_LIFETIME_SECONDS,
  guidFrom,
  oauthError,
  OIDC_SCOPES,
  tokenResponse,
  uti,
  v2Issuer,
  withoutTrailingSlash,
  type TokenRequest,
} from './entra.ts';
import type { AppRegistration, EntraDirectory } from './entra-tenant.ts';


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

export function authorizeEndpoint(url: URL, tenant: string, directory: EntraDirectory, grants: GrantStore): Response {
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

/** The app a token request names by `client_id`, or Entra's error for a missing or unknown one. */
function redeemingApp({ form, tenant, directory }: TokenRequest): AppRegistration | Response {
  const clientId = form.get('client_id');
  if (!clientId) return oauthError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.");
  return (
    directory.app(clientId) ??
    oauthError(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`)
  );
}

export async function authorizationCodeGrant(request: TokenRequest, grants: GrantStore, origin: string | null): Promise<Response> {
  const { form, directory } = request;
  const app = redeemingApp(request);
  if (app instanceof Response) return app;
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

export async function refreshTokenGrant(request: TokenRequest, grants: GrantStore, origin: string | null): Promise<Response> {
  const { form, directory } = request;
  const app = redeemingApp(request);
  if (app instanceof Response) return app;
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
