import { createRemoteJWKSet, customFetch, decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { principalFromClaims, tokenIdentityType, type Principal } from './principal.ts';
import { qualifiedScope, type EntraSettings } from './settings.ts';

/**
 * In-app validation of Entra access tokens for this API (MCP_AUTH_MODE=entra).
 *
 * Order: a Bearer token of sane size → header `alg` RS256 with a `kid` →
 * `tid` in the allowed tenants (so only their metadata is ever fetched) →
 * `iss` equal to that tenant's issuer from its OpenID configuration (v1
 * issuer only when enabled) → signature with a key from that document's
 * `jwks_uri` → `aud` (identifier URI or client id), `exp`/`nbf` with skew →
 * a delegated scope (`scp`) or, app-only, an app role (`roles`).
 *
 * Keys: one jose remote JWKS per `jwks_uri`, cached (`jwksCacheMaxAgeMs`),
 * fetched again when a token names an unknown `kid`, but at most once per
 * `jwksCooldownMs`: a flood of made-up kids costs the JWKS endpoint one
 * request per cooldown. OpenID documents are cached for `metadataTtlMs`
 * (kept when a refresh fails) and a failed first fetch is retried at most
 * once per `metadataRetryMs`.
 *
 * Nothing here logs, and no failure carries the token or its claims.
 *
 * @example
 * const validator = createEntraTokenValidator(auth.entra);
 * const result = await validator.validateRequest(request);
 * if (!result.ok) return authChallengeResponse(result.failure, prm);
 * result.principal; // frozen Principal; onBehalfOfAssertion(principal) for OBO
 */

export type AuthFailureReason =
  | 'no_token'
  | 'malformed_token'
  | 'alg_not_allowed'
  | 'unknown_kid'
  | 'bad_signature'
  | 'wrong_issuer'
  | 'v1_token_not_accepted'
  | 'tenant_not_allowed'
  | 'wrong_audience'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'missing_claim'
  | 'missing_scope'
  | 'missing_role'
  | 'metadata_unavailable'
  /** Easy Auth: the request did not pass App Service authentication. */
  | 'unauthenticated'
  /** functionKey on the Node host: no key, or not the configured one. */
  | 'no_function_key'
  | 'invalid_function_key';

export interface AuthFailure {
  /** 401: no or invalid token; 403: valid token without the scope or role; 503: Entra metadata unreachable (not the caller's fault). */
  status: 401 | 403 | 503;
  /** RFC 6750 error code; undefined when no token was sent (the challenge then names none). */
  error: 'invalid_token' | 'insufficient_scope' | undefined;
  /** For the caller (ASCII, no token values). */
  description: string;
  /** Short machine-readable reason for the audit log. */
  reason: AuthFailureReason;
  /** The scope the challenge should name; the default scope when undefined. */
  scope?: string;
}

export type TokenValidation = { ok: true; principal: Principal } | { ok: false; failure: AuthFailure };

export interface EntraTokenValidator {
  /** Validates an `Authorization` header value. */
  validate(authorization: string | null | undefined): Promise<TokenValidation>;
  validateRequest(request: Request): Promise<TokenValidation>;
}

export interface EntraTokenValidatorOptions {
  /** Used for OpenID documents and JWKS; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Minimum time between JWKS fetches triggered by unknown kids (default 30 s). */
  jwksCooldownMs?: number;
  /** Cached keys are refetched after this (default 10 min). */
  jwksCacheMaxAgeMs?: number;
  /** OpenID documents are refetched after this (default 24 h). */
  metadataTtlMs?: number;
  /** After a failed OpenID document fetch, no new attempt before this (default 30 s). */
  metadataRetryMs?: number;
  /** Per HTTP request (default 5 s). */
  timeoutMs?: number;
  /** Clock for `exp`/`nbf` and caches (epoch ms). */
  now?: () => number;
}

/** Entra tokens are 1–4 KB (large group lists make them bigger); anything past this is not one. */
const MAX_TOKEN_LENGTH = 16_384;
const HOUR_MS = 3_600_000;

interface IssuerKeys {
  issuer: string;
  keys: JWTVerifyGetKey;
}

interface TenantMetadata {
  v2: IssuerKeys;
  v1: IssuerKeys | undefined;
}

class MetadataUnavailableError extends Error {}

export function createEntraTokenValidator(settings: EntraSettings, options: EntraTokenValidatorOptions = {}): EntraTokenValidator {
  const now = options.now ?? Date.now;
  const metadata = createMetadataCache(settings, options, now);
  const audiences = [...new Set([settings.identifierUri, settings.clientId])];
  const scope = qualifiedScope(settings);

  async function validate(authorization: string | null | undefined): Promise<TokenValidation> {
    const token = bearerToken(authorization);
    if (typeof token !== 'string') return token;
    const unverified = inspect(token, settings);
    if ('failure' in unverified) return unverified;
    let tenant: TenantMetadata;
    try {
      tenant = await metadata.get(unverified.tenantId);
    } catch {
      return fail(503, undefined, 'metadata_unavailable', 'The sign-in service metadata is unavailable; try again shortly.');
    }
    const signer = issuerFor(unverified.claims, tenant, settings);
    if ('failure' in signer) return signer;
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, signer.keys, {
        algorithms: ['RS256'],
        issuer: signer.issuer,
        audience: audiences,
        clockTolerance: settings.clockSkewSeconds,
        requiredClaims: ['exp', 'oid', 'tid'],
        currentDate: new Date(now()),
      }));
    } catch (error) {
      return joseFailure(error, settings);
    }
    if (String(claims.tid).toLowerCase() !== unverified.tenantId) return invalid('wrong_issuer', 'The token was not issued for an allowed tenant.');
    return authorize(claims, token);
  }

  function authorize(claims: JWTPayload, token: string): TokenValidation {
    const principal = principalFromClaims(claims, 'entra', token);
    if (tokenIdentityType(claims) === 'app') {
      if (settings.appRole && principal.roles.includes(settings.appRole)) return { ok: true, principal };
      const description = settings.appRole
        ? `The application token lacks the app role '${settings.appRole}' (roles); assign the role to the calling app.`
        : 'App-only tokens are not accepted by this server; sign in as a user.';
      return fail(403, 'insufficient_scope', 'missing_role', description, `${settings.identifierUri}/.default`);
    }
    if (principal.scopes.includes(settings.requiredScope)) return { ok: true, principal };
    return fail(403, 'insufficient_scope', 'missing_scope', `The token lacks the delegated scope '${scope}' (scp).`, scope);
  }

  return {
    validate,
    validateRequest: (request) => validate(request.headers.get('authorization')),
  };
}

function fail(status: AuthFailure['status'], error: AuthFailure['error'], reason: AuthFailureReason, description: string, scope?: string): TokenValidation {
  return { ok: false, failure: scope === undefined ? { status, error, reason, description } : { status, error, reason, description, scope } };
}

function invalid(reason: AuthFailureReason, description: string): { ok: false; failure: AuthFailure } {
  return { ok: false, failure: { status: 401, error: 'invalid_token', reason, description } };
}

/** The token of `Authorization: Bearer <token>`, or the failure (RFC 6750: no error code when none was sent). */
function bearerToken(authorization: string | null | undefined): string | { ok: false; failure: AuthFailure } {
  const header = authorization?.trim() ?? '';
  if (header === '') return { ok: false, failure: { status: 401, error: undefined, reason: 'no_token', description: 'A bearer token is required.' } };
  const match = /^Bearer[ \t]+(\S+)$/i.exec(header);
  if (!match?.[1]) {
    const bearer = /^Bearer\b/i.test(header);
    return bearer
      ? invalid('malformed_token', 'The Authorization header is not "Bearer <token>".')
      : { ok: false, failure: { status: 401, error: undefined, reason: 'no_token', description: 'A bearer token is required (Authorization: Bearer <token>).' } };
  }
  const token = match[1];
  if (token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)) {
    return invalid('malformed_token', 'The bearer token is not a JWT access token.');
  }
  return token;
}

/** Header and claims before any signature check: only to choose the tenant and keys, never trusted. */
function inspect(token: string, settings: EntraSettings): { claims: JWTPayload; tenantId: string } | { ok: false; failure: AuthFailure } {
  let header: ReturnType<typeof decodeProtectedHeader>;
  let claims: JWTPayload;
  try {
    header = decodeProtectedHeader(token);
    claims = decodeJwt(token);
  } catch {
    return invalid('malformed_token', 'The bearer token is not a JWT access token.');
  }
  if (header.alg !== 'RS256') return invalid('alg_not_allowed', 'The token must be signed with RS256.');
  if (typeof header.kid !== 'string' || header.kid === '') return invalid('unknown_kid', 'The token names no signing key (kid).');
  const tenantId = typeof claims.tid === 'string' ? claims.tid.toLowerCase() : undefined;
  if (!tenantId) return invalid('missing_claim', 'The token has no tenant id (tid).');
  if (!settings.tenantIds.includes(tenantId)) return invalid('tenant_not_allowed', 'The token was issued by a tenant this server does not accept.');
  return { claims, tenantId };
}

function issuerFor(claims: JWTPayload, tenant: TenantMetadata, settings: EntraSettings): IssuerKeys | { ok: false; failure: AuthFailure } {
  if (claims.iss === tenant.v2.issuer) return tenant.v2;
  if (tenant.v1 && claims.iss === tenant.v1.issuer) return tenant.v1;
  if (!settings.acceptV1Tokens && (claims.ver === '1.0' || /^https:\/\/sts\./.test(String(claims.iss)))) {
    return invalid('v1_token_not_accepted', 'v1 access tokens are not accepted; set accessTokenAcceptedVersion (requestedAccessTokenVersion) to 2 on the API app registration.');
  }
  return invalid('wrong_issuer', 'The token was not issued by the expected Entra tenant.');
}

function joseFailure(error: unknown, settings: EntraSettings): TokenValidation {
  const code = (error as { code?: unknown }).code;
  const claim = (error as { claim?: unknown }).claim;
  const missing = (error as { reason?: unknown }).reason === 'missing';
  switch (code) {
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return invalid('alg_not_allowed', 'The token must be signed with RS256.');
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return invalid('unknown_kid', 'The token was signed with a key the tenant does not publish.');
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return invalid('bad_signature', 'The token signature is invalid.');
    case 'ERR_JWT_EXPIRED':
      return invalid('token_expired', 'The token has expired.');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (missing) return invalid('missing_claim', `The token has no '${String(claim)}' claim.`);
      if (claim === 'nbf') return invalid('token_not_yet_valid', 'The token is not valid yet (nbf).');
      if (claim === 'aud') return invalid('wrong_audience', `The token is not for this API (audience must be ${settings.identifierUri} or ${settings.clientId}).`);
      if (claim === 'iss') return invalid('wrong_issuer', 'The token was not issued by the expected Entra tenant.');
      return invalid('malformed_token', `The token's '${String(claim)}' claim is invalid.`);
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return invalid('malformed_token', 'The bearer token is not a valid JWT.');
    default:
      // Key fetch failures (timeout, non-200, bad JSON, network): the server's problem, not the token's.
      return fail(503, undefined, 'metadata_unavailable', 'The sign-in service keys are unavailable; try again shortly.');
  }
}

function createMetadataCache(settings: EntraSettings, options: EntraTokenValidatorOptions, now: () => number) {
  const ttlMs = options.metadataTtlMs ?? 24 * HOUR_MS;
  const retryMs = options.metadataRetryMs ?? 30_000;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const fetchImpl = options.fetch ?? fetch;
  const jwksByUri = new Map<string, JWTVerifyGetKey>();
  const entries = new Map<string, { value?: TenantMetadata; at: number; failedAt?: number; pending?: Promise<TenantMetadata> }>();

  const keysFor = (jwksUri: string): JWTVerifyGetKey => {
    let keys = jwksByUri.get(jwksUri);
    if (!keys) {
      keys = createRemoteJWKSet(new URL(jwksUri), {
        cooldownDuration: options.jwksCooldownMs ?? 30_000,
        cacheMaxAge: options.jwksCacheMaxAgeMs ?? 10 * 60_000,
        timeoutDuration: timeoutMs,
        [customFetch]: (url, init) => fetchImpl(url, init),
      });
      jwksByUri.set(jwksUri, keys);
    }
    return keys;
  };

  const document = async (url: string, tenantId: string): Promise<IssuerKeys> => {
    const response = await fetchImpl(url, { redirect: 'error', signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
    if (response.status !== 200) throw new MetadataUnavailableError(`HTTP ${response.status} from ${url}`);
    const body = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
    if (typeof body.issuer !== 'string' || typeof body.jwks_uri !== 'string' || !URL.canParse(body.jwks_uri) || new URL(body.jwks_uri).protocol !== 'https:') {
      throw new MetadataUnavailableError(`${url} has no issuer or https jwks_uri`);
    }
    // Multi-tenant documents (common, organizations) carry a placeholder for the tenant id.
    return { issuer: body.issuer.replaceAll('{tenantid}', tenantId), keys: keysFor(body.jwks_uri) };
  };

  const load = async (tenantId: string): Promise<TenantMetadata> => {
    const base = `${settings.authorityHost}/${tenantId}`;
    const [v2, v1] = await Promise.all([
      document(`${base}/v2.0/.well-known/openid-configuration`, tenantId),
      settings.acceptV1Tokens ? document(`${base}/.well-known/openid-configuration`, tenantId) : undefined,
    ]);
    return { v2, v1 };
  };

  return {
    get(tenantId: string): Promise<TenantMetadata> {
      const entry = entries.get(tenantId) ?? { at: 0 };
      entries.set(tenantId, entry);
      const time = now();
      if (entry.pending) return entry.value ? Promise.resolve(entry.value) : entry.pending;
      if (entry.value && time - entry.at < ttlMs) return Promise.resolve(entry.value);
      if (entry.failedAt !== undefined && time - entry.failedAt < retryMs) {
        return entry.value ? Promise.resolve(entry.value) : Promise.reject(new MetadataUnavailableError('recently failed'));
      }
      entry.pending = load(tenantId).then(
        (value) => {
          Object.assign(entry, { value, at: now(), failedAt: undefined, pending: undefined });
          return value;
        },
        (error: unknown) => {
          Object.assign(entry, { failedAt: now(), pending: undefined });
          // A stale document beats none: keys still rotate through the JWKS.
          if (entry.value) return entry.value;
          throw error;
        },
      );
      return entry.value ? Promise.resolve(entry.value) : entry.pending;
    },
  };
}
