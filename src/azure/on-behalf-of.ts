import { createHash, createPrivateKey, createSign, randomUUID, X509Certificate } from 'node:crypto';
import type { AccessToken, GetTokenOptions, OnBehalfOfCredentialOptions, TokenCredential } from '@azure/identity';
import { onBehalfOfAssertion, type Principal } from '../auth/principal.ts';
import type { CredentialProvider } from './credential.ts';
import type { SecretProvider } from './secrets.ts';

/**
 * On-behalf-of (delegated) credentials: a backend called with one of these
 * sees the signed-in user, so the user's own permissions apply (Kusto
 * database roles and row-level security, Graph delegated scopes).
 *
 * The exchange is Entra's OBO grant through `@azure/identity`'s
 * `OnBehalfOfCredential`. The API's app registration authenticates in it
 * with, by default, **no secret**: its client assertion is the app's managed
 * identity token for `api://AzureADTokenExchange` (the managed identity is a
 * federated identity credential of the app registration). Fallbacks, read
 * from Key Vault at run time: a client certificate (a secret holding the
 * PEM private key and certificate) or a client secret; a secret Entra
 * rejects as invalid or expired is read again once (rotation).
 *
 * The caller's own token is only ever the `assertion` of the exchange:
 * nothing here returns it, logs it, or sends it anywhere else.
 *
 * Tokens are cached per user (tenant + object id) and scope until shortly
 * before they expire, for at most `maxUsers` users (least recently used
 * first out). A cache entry is keyed by the validated principal's ids and a
 * token is checked to name that user before it is cached or returned, so
 * one user's token can never answer another's call.
 *
 * @example
 * const obo = createOnBehalfOfCredentials({ authorityHost, clientId, clientAuth: { kind: 'managedIdentity' }, managedIdentity: credential });
 * const credential = obo.forCaller(ctx.caller); // throws OnBehalfOfError when there is no user to act for
 * await credential.getToken('https://help.kusto.windows.net/.default');
 */

/** How the API's app registration proves itself in the exchange. */
export type OnBehalfOfClientAuth =
  /** Secretless: the managed identity is a federated credential of the app registration (recommended). */
  | { kind: 'managedIdentity' }
  /** Key Vault secret holding the PEM private key and certificate (a Key Vault certificate's secret). */
  | { kind: 'certificate'; secretName: string }
  /** Key Vault secret holding a client secret of the app registration. */
  | { kind: 'secret'; secretName: string };

export interface OnBehalfOfSettings {
  /** Entra's login origin (`https://login.microsoftonline.com`, a sovereign cloud's, the emulator's). */
  authorityHost: string;
  /** Client id of the API's app registration (the audience of the callers' tokens). */
  clientId: string;
  clientAuth: OnBehalfOfClientAuth;
}

/** One exchange, as the default implementation (OnBehalfOfCredential) or a test double performs it. */
export interface ExchangeRequest {
  tenantId: string;
  clientId: string;
  authorityHost: string;
  scopes: string[];
  /** The caller's token for this API. */
  userAssertion: string;
  /** Exactly one way of authenticating the app. */
  client: { clientAssertion: () => Promise<string> } | { clientSecret: string };
  abortSignal?: GetTokenOptions['abortSignal'];
}
export type Exchange = (request: ExchangeRequest) => Promise<AccessToken>;

export interface OnBehalfOfOptions extends OnBehalfOfSettings {
  /** The app's own credential (its managed identity on Azure): the secretless client assertion, and Key Vault. */
  managedIdentity: CredentialProvider;
  /** Needed for the certificate and client-secret fallbacks. */
  secrets?: SecretProvider | undefined;
  /** Users whose tokens are kept (default 500). */
  maxUsers?: number;
  /** A token is exchanged again this long before it expires (default 5 minutes). */
  refreshMarginMs?: number;
  now?: () => number;
  /** Replaces the exchange (tests of caching and error mapping); default: `OnBehalfOfCredential`. */
  exchange?: Exchange;
}

export interface OnBehalfOfCredentials {
  /**
   * A credential that acts as this caller. Throws OnBehalfOfError
   * (`no_user`) at once when the principal is no signed-in user with a token
   * to exchange (app-only callers, anonymous modes). Bind it to the call
   * that has this principal: it holds this call's assertion.
   */
  forCaller(principal: Principal): TokenCredential;
  /** `user:<tid>/<oid>`: the partition of every cache holding data this user's permissions decide. */
  partitionOf(principal: Principal): string;
  /** Drops every cached token (tests, or an operator revoking consent). */
  clear(): void;
}

/** The audience of the token a federated identity credential accepts, per cloud. */
export function tokenExchangeAudience(authorityHost: string): string {
  const host = new URL(authorityHost).hostname;
  if (host.endsWith('microsoftonline.us')) return 'api://AzureADTokenExchangeUSGov';
  if (host.endsWith('chinacloudapi.cn')) return 'api://AzureADTokenExchangeChina';
  return 'api://AzureADTokenExchange';
}

// ---- errors ------------------------------------------------------------------

export type OnBehalfOfErrorCode =
  /** The caller is no user with a token to exchange. */
  | 'no_user'
  /** AADSTS65001: nobody consented to the API acting for users at this resource. */
  | 'consent_required'
  /** AADSTS50105: the resource requires user assignment and this user is not assigned. */
  | 'user_not_assigned'
  /** Conditional Access wants more from the user (MFA, a compliant device): ClaimsChallengeError when Entra sent claims. */
  | 'interaction_required'
  /** AADSTS50013, AADSTS500133: the caller's token cannot be exchanged (expired, wrong audience). */
  | 'invalid_assertion'
  /** The app registration could not authenticate (federated credential, certificate, secret): an operator's fix. */
  | 'client_authentication_failed'
  /** Anything else the token endpoint or the network said. */
  | 'exchange_failed';

/**
 * A token for the caller could not be obtained. `message` says why in terms
 * a user can act on, `nextStep` what to do; neither carries a token. Kept
 * apart from @azure/identity's errors so callers can tell "the user must act"
 * from "the server's identity is broken".
 */
export class OnBehalfOfError extends Error {
  /** Marks these errors across module copies (bundled chunks). */
  readonly onBehalfOf = true;
  constructor(
    readonly code: OnBehalfOfErrorCode,
    message: string,
    readonly nextStep: string,
    /** The AADSTS code Entra answered with, when it did. */
    readonly aadsts?: string,
  ) {
    super(message);
    this.name = 'OnBehalfOfError';
  }
}

/**
 * Conditional Access asks for more than the user's current sign-in (MFA, a
 * compliant device, a fresh sign-in). The client must sign the user in again
 * asking for these claims; the HTTP layer returns them in a 401:
 * `WWW-Authenticate: Bearer error="insufficient_claims", claims="<encodedClaims>"`.
 */
export class ClaimsChallengeError extends OnBehalfOfError {
  /** The claims request as Entra returned it (a JSON text). */
  readonly claims: string;
  constructor(claims: string, aadsts?: string) {
    super(
      'interaction_required',
      `Conditional Access requires more from your sign-in (for example multi-factor authentication) before this server may act for you${aadsts ? ` (${aadsts})` : ''}.`,
      'Sign in again in your MCP client; it must request a new token with the claims in the authentication challenge.',
      aadsts,
    );
    this.name = 'ClaimsChallengeError';
    this.claims = claims;
  }

  /** The claims base64-encoded, as the `claims` parameter of a `WWW-Authenticate: Bearer` challenge carries them. */
  get encodedClaims(): string {
    return Buffer.from(this.claims, 'utf8').toString('base64');
  }
}

/** The OnBehalfOfError in `error` or what it wraps (`inner`, `cause`: the Kusto SDK wraps credential errors), if any. */
export function onBehalfOfErrorIn(error: unknown): OnBehalfOfError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== null && typeof current === 'object'; depth++) {
    if ((current as { onBehalfOf?: unknown }).onBehalfOf === true && current instanceof Error) return current as OnBehalfOfError;
    const candidate = current as { inner?: unknown; cause?: unknown };
    current = candidate.inner ?? candidate.cause;
  }
  return undefined;
}

/** What the token endpoint answered, when it refused. */
export interface TokenErrorBody {
  error?: string;
  error_description?: string;
  error_codes?: number[];
  suberror?: string;
  claims?: string;
}

const CLIENT_AUTH_CODES = new Set(['AADSTS70021', 'AADSTS700211', 'AADSTS700212', 'AADSTS700213', 'AADSTS700016', 'AADSTS700024', 'AADSTS700027', 'AADSTS7000215', 'AADSTS7000222', 'AADSTS7000218', 'AADSTS700021', 'AADSTS50027']);
/** A client secret Entra no longer accepts: invalid (rotated away) or expired. */
const SECRET_REJECTED = new Set(['AADSTS7000215', 'AADSTS7000222']);
/** A certificate Entra does not know (rotated) or an assertion it cannot verify. */
const CERTIFICATE_REJECTED = new Set(['AADSTS700027']);

function aadstsOf(body: TokenErrorBody | undefined, message: string): string | undefined {
  const code = body?.error_codes?.[0];
  if (typeof code === 'number') return `AADSTS${code}`;
  return /\bAADSTS\d+\b/.exec(message)?.[0];
}

/** The first sentence of Entra's description, without its trace/correlation ids and timestamp. */
function entraSays(body: TokenErrorBody | undefined, message: string): string {
  const text = (body?.error_description ?? message).split(/\s+Trace ID:/)[0] ?? '';
  return text.replace(/\s+/g, ' ').trim().slice(0, 400);
}

/** Maps a failed exchange to an OnBehalfOfError; `body` is the token endpoint's answer when captured. */
export function mapExchangeError(error: unknown, body: TokenErrorBody | undefined, resource: string): OnBehalfOfError {
  if (onBehalfOfErrorIn(error)) return onBehalfOfErrorIn(error) as OnBehalfOfError;
  const message = error instanceof Error ? error.message : String(error);
  const aadsts = aadstsOf(body, message);
  const oauthError = body?.error ?? /^([a-z_]+):/.exec(message)?.[1];
  const says = entraSays(body, message);
  if (aadsts === 'AADSTS65001' || oauthError === 'consent_required') {
    return new OnBehalfOfError(
      'consent_required',
      `This server may not act for you at ${resource} yet: the delegated permission has not been consented to (${aadsts ?? 'consent_required'}).`,
      `An administrator grants admin consent to this server's app registration for ${resource} (API permissions: the delegated permission, e.g. user_impersonation), or you consent when signing in again.`,
      aadsts,
    );
  }
  if (aadsts === 'AADSTS50105') {
    return new OnBehalfOfError(
      'user_not_assigned',
      `Your account is not assigned to the application behind ${resource}, which requires assignment (${aadsts}).`,
      'Ask an administrator to assign you (or a group you are in) to that application in Entra ID (Enterprise applications → Users and groups).',
      aadsts,
    );
  }
  if (oauthError === 'interaction_required' || body?.suberror !== undefined) {
    if (body?.claims) return new ClaimsChallengeError(body.claims, aadsts);
    return new OnBehalfOfError(
      'interaction_required',
      `Your sign-in does not satisfy a policy for ${resource} (${aadsts ?? 'interaction_required'}): ${says}`,
      'Sign in again in your MCP client (with multi-factor authentication if asked), then retry.',
      aadsts,
    );
  }
  if (aadsts === 'AADSTS50013' || aadsts === 'AADSTS500133') {
    return new OnBehalfOfError(
      'invalid_assertion',
      `Your access token could not be exchanged for ${resource} (${aadsts}): ${says}`,
      'Sign in again in your MCP client to get a fresh token, then retry.',
      aadsts,
    );
  }
  if ((aadsts && CLIENT_AUTH_CODES.has(aadsts)) || oauthError === 'invalid_client' || oauthError === 'unauthorized_client' || isCredentialUnavailable(error)) {
    return new OnBehalfOfError(
      'client_authentication_failed',
      `The server could not authenticate its app registration to act for you${aadsts ? ` (${aadsts})` : ''}: ${says}`,
      'Not something you can fix: an operator checks the on-behalf-of setup (the managed identity as a federated credential of the API app registration: issuer https://login.microsoftonline.com/<tenant>/v2.0, subject the identity\'s principal id, audience api://AzureADTokenExchange; or the certificate or secret in Key Vault).',
      aadsts,
    );
  }
  return new OnBehalfOfError(
    'exchange_failed',
    `A token to act for you at ${resource} could not be obtained${aadsts ? ` (${aadsts})` : ''}: ${says}`,
    'Retry in a minute; if it keeps failing, report the time of the call to the operators.',
    aadsts,
  );
}

/** The app's own credential failed: no managed identity token, or the fallback secret could not be read from Key Vault. */
function isCredentialUnavailable(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'CredentialUnavailableError' || name === 'SecretUnavailableError';
}

// ---- the credential factory --------------------------------------------------

interface UserEntry {
  /** scope key → token */
  tokens: Map<string, AccessToken>;
  /** scope key + assertion → exchange in flight (concurrent calls with the same token share one). */
  pending: Map<string, Promise<AccessToken>>;
}

const DEFAULT_MAX_USERS = 500;
const DEFAULT_REFRESH_MARGIN_MS = 5 * 60_000;

/** Why a principal cannot be acted for, or undefined when it can. */
function whyNotActable(principal: Principal): string | undefined {
  if (principal.idtyp !== 'user') {
    return principal.idtyp === 'app'
      ? 'the caller is an application (app-only token), and on-behalf-of needs a signed-in user'
      : `the caller is not signed in (auth mode ${principal.authMode})`;
  }
  if (!principal.objectId || !principal.tenantId) return "the caller's token names no object id and tenant";
  if (!onBehalfOfAssertion(principal)) {
    return principal.authMode === 'easyAuth'
      ? "App Service authentication did not pass on the caller's access token (an operator turns on its token store, so X-MS-TOKEN-AAD-ACCESS-TOKEN reaches the app)"
      : "the caller's token is not available for the exchange";
  }
  return undefined;
}

export function createOnBehalfOfCredentials(options: OnBehalfOfOptions): OnBehalfOfCredentials {
  const now = options.now ?? Date.now;
  const maxUsers = options.maxUsers ?? DEFAULT_MAX_USERS;
  const margin = options.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS;
  const exchange = options.exchange ?? identityExchange;
  const users = new Map<string, UserEntry>();
  const exchangeAudience = `${tokenExchangeAudience(options.authorityHost)}/.default`;

  const partitionOf = (principal: Principal) => `user:${principal.tenantId?.toLowerCase()}/${principal.objectId?.toLowerCase()}`;

  /** The entry of a user, most recently used last; the least recently used go beyond `maxUsers`. */
  function entryFor(partition: string): UserEntry {
    let entry = users.get(partition);
    if (entry) users.delete(partition);
    else entry = { tokens: new Map(), pending: new Map() };
    users.set(partition, entry);
    while (users.size > maxUsers) {
      const oldest = users.keys().next().value as string;
      users.delete(oldest);
    }
    return entry;
  }

  async function secret(name: string): Promise<SecretProvider> {
    if (!options.secrets) {
      throw new OnBehalfOfError('client_authentication_failed', `The on-behalf-of credential is configured to read "${name}" from Key Vault, but no Key Vault is configured.`, 'An operator sets KEY_VAULT_URL.');
    }
    return options.secrets;
  }

  /** One exchange with the configured client authentication; a rejected secret or certificate is read again once. */
  async function exchangeFor(tenantId: string, scopes: string[], userAssertion: string, abortSignal: GetTokenOptions['abortSignal']): Promise<AccessToken> {
    const base = { tenantId, clientId: options.clientId, authorityHost: options.authorityHost, scopes, userAssertion, abortSignal };
    const auth = options.clientAuth;
    if (auth.kind === 'managedIdentity') {
      const clientAssertion = async () => {
        try {
          const token = await (await options.managedIdentity()).getToken(exchangeAudience);
          if (!token) throw new Error('no token');
          return token.token;
        } catch (error) {
          throw new OnBehalfOfError(
            'client_authentication_failed',
            `The server's managed identity could not get its token for the exchange (${(error as Error).name ?? 'Error'}).`,
            'Not something you can fix: an operator checks that the managed identity is enabled on the app (and AZURE_CLIENT_ID names it), or configures a certificate or secret fallback.',
          );
        }
      };
      return exchange({ ...base, client: { clientAssertion } });
    }
    const secrets = await secret(auth.secretName);
    const rejected = auth.kind === 'secret' ? SECRET_REJECTED : CERTIFICATE_REJECTED;
    return secrets.use(
      auth.secretName,
      (value) => exchange({ ...base, client: auth.kind === 'secret' ? { clientSecret: value } : { clientAssertion: async () => certificateAssertion(value, base) } }),
      (error) => {
        const code = (error as Partial<OnBehalfOfError>).aadsts ?? aadstsOf(undefined, (error as Error).message ?? '');
        return code !== undefined && rejected.has(code);
      },
    );
  }

  function forCaller(principal: Principal): TokenCredential {
    const problem = whyNotActable(principal);
    if (problem) {
      throw new OnBehalfOfError('no_user', `This server acts for the signed-in user at its backends (on-behalf-of), but ${problem}.`, 'Call with a user\'s Entra token for this server (sign in as a user in your MCP client).');
    }
    const partition = partitionOf(principal);
    const tenantId = (principal.tenantId as string).toLowerCase();
    const objectId = (principal.objectId as string).toLowerCase();
    const userAssertion = onBehalfOfAssertion(principal) as string;
    return {
      async getToken(scopes: string | string[], tokenOptions?: GetTokenOptions): Promise<AccessToken> {
        const list = (Array.isArray(scopes) ? scopes : [scopes]).filter(Boolean);
        const scopeKey = [...list].sort().join(' ');
        const entry = entryFor(partition);
        const cached = entry.tokens.get(scopeKey);
        if (cached && cached.expiresOnTimestamp - margin > now()) return cached;
        const pendingKey = `${scopeKey}\n${createHash('sha256').update(userAssertion).digest('base64url')}`;
        let pending = entry.pending.get(pendingKey);
        if (!pending) {
          pending = (async () => {
            const token = await exchangeFor(tenantId, list, userAssertion, tokenOptions?.abortSignal);
            assertNamesUser(token.token, tenantId, objectId);
            entry.tokens.set(scopeKey, token);
            return token;
          })();
          entry.pending.set(pendingKey, pending);
          const done = () => {
            if (entry.pending.get(pendingKey) === pending) entry.pending.delete(pendingKey);
          };
          pending.then(done, done);
        }
        try {
          return await pending;
        } catch (error) {
          throw mapExchangeError(error, undefined, resourceOf(list));
        }
      },
    };
  }

  return { forCaller, partitionOf, clear: () => users.clear() };
}

/** `https://help.kusto.windows.net` of `https://help.kusto.windows.net/.default`, for messages. */
function resourceOf(scopes: readonly string[]): string {
  const [first = ''] = scopes;
  const slash = first.lastIndexOf('/');
  return slash > 'https://'.length ? first.slice(0, slash) : first || 'the backend';
}

/**
 * Defence in depth for the cache: a token that names a user (a JWT with
 * `oid`/`tid`) must name the one it was asked for. Opaque tokens pass.
 */
function assertNamesUser(token: string, tenantId: string, objectId: string): void {
  const [, payload] = token.split('.');
  if (!payload) return;
  let claims: { oid?: unknown; tid?: unknown };
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims;
  } catch {
    return;
  }
  const wrong = (claim: unknown, expected: string) => typeof claim === 'string' && claim.toLowerCase() !== expected;
  if (wrong(claims.oid, objectId) || wrong(claims.tid, tenantId)) {
    throw new OnBehalfOfError('exchange_failed', 'The token obtained on your behalf names another user, so it was discarded.', 'Retry; if it happens again, report the time of the call to the operators.');
  }
}

// ---- client certificate (private_key_jwt) ------------------------------------

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

/**
 * A client assertion signed with the app's certificate (`private_key_jwt`),
 * built in memory from the PEM Key Vault holds (private key and
 * certificate), so the key never touches the disk. Valid ten minutes.
 */
export function certificateAssertion(pem: string, request: { tenantId: string; clientId: string; authorityHost: string }): string {
  let key: ReturnType<typeof createPrivateKey>;
  let certificate: X509Certificate;
  try {
    key = createPrivateKey(pem);
    const certificatePem = PEM_CERTIFICATE.exec(pem)?.[0];
    if (!certificatePem) throw new Error('no certificate');
    certificate = new X509Certificate(certificatePem);
  } catch {
    // Never echo the PEM: it holds the private key.
    throw new OnBehalfOfError(
      'client_authentication_failed',
      'The client certificate from Key Vault could not be read: it must be PEM with the private key and the certificate.',
      'An operator stores the certificate in Key Vault as PEM (content type application/x-pem-file) under the configured secret name.',
    );
  }
  const thumbprint = (algorithm: 'sha1' | 'sha256') => createHash(algorithm).update(certificate.raw).digest('base64url');
  const seconds = Math.floor(Date.now() / 1000);
  const header = { alg: 'RS256', typ: 'JWT', x5t: thumbprint('sha1'), 'x5t#S256': thumbprint('sha256') };
  const claims = {
    aud: `${request.authorityHost.replace(/\/+$/, '')}/${request.tenantId}/oauth2/v2.0/token`,
    iss: request.clientId,
    sub: request.clientId,
    jti: randomUUID(),
    nbf: seconds,
    iat: seconds,
    exp: seconds + 600,
  };
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signingInput = `${encode(header)}.${encode(claims)}`;
  const signature = createSign('RSA-SHA256').update(signingInput).sign(key).toString('base64url');
  return `${signingInput}.${signature}`;
}

// ---- the exchange through @azure/identity ------------------------------------

/**
 * OnBehalfOfCredential reports a refused exchange as a message only; the
 * claims of a Conditional Access challenge are not in it. This pipeline
 * policy keeps the token endpoint's error answer for the mapping.
 */
type PipelinePolicy = NonNullable<OnBehalfOfCredentialOptions['additionalPolicies']>[number]['policy'];

function tokenErrorCapture(): { policy: PipelinePolicy; last: () => TokenErrorBody | undefined } {
  let last: TokenErrorBody | undefined;
  return {
    policy: {
      name: 'onBehalfOfTokenErrorCapture',
      async sendRequest(request, next) {
        const response = await next(request);
        if (response.status >= 400 && response.bodyAsText) {
          try {
            const body = JSON.parse(response.bodyAsText) as TokenErrorBody;
            if (typeof body.error === 'string') last = body;
          } catch {
            // Not a token endpoint error body.
          }
        }
        return response;
      },
    },
    last: () => last,
  };
}

/**
 * The exchange through `OnBehalfOfCredential`, one per exchange: it is
 * bound to one user assertion, and our own cache (above) is what keeps the
 * tokens. Instance discovery is off for authorities other than the public
 * cloud's well-known hosts (the emulator), as msal-node would otherwise ask
 * login.microsoftonline.com about them.
 */
export const identityExchange: Exchange = async (request) => {
  const { OnBehalfOfCredential } = await import('@azure/identity');
  const capture = tokenErrorCapture();
  const knownHost = /(^|\.)login\.(microsoftonline\.(com|us)|chinacloudapi\.cn|partner\.microsoftonline\.cn)$/i.test(new URL(request.authorityHost).hostname);
  const common: Omit<OnBehalfOfCredentialOptions, 'clientSecret' | 'getAssertion' | 'certificatePath'> & { disableInstanceDiscovery?: boolean } = {
    tenantId: request.tenantId,
    clientId: request.clientId,
    userAssertionToken: request.userAssertion,
    authorityHost: request.authorityHost,
    ...(!knownHost && { disableInstanceDiscovery: true }),
    additionalPolicies: [{ policy: capture.policy, position: 'perCall' as const }],
  };
  // msal-node reports a failing assertion callback in its own words: keep ours.
  let assertionFailure: unknown;
  const credential =
    'clientSecret' in request.client
      ? new OnBehalfOfCredential({ ...common, clientSecret: request.client.clientSecret })
      : new OnBehalfOfCredential({
          ...common,
          getAssertion: async () => {
            const { clientAssertion } = request.client as { clientAssertion: () => Promise<string> };
            try {
              return await clientAssertion();
            } catch (error) {
              assertionFailure = error;
              throw error;
            }
          },
        });
  try {
    return await credential.getToken(request.scopes, request.abortSignal ? { abortSignal: request.abortSignal } : {});
  } catch (error) {
    throw mapExchangeError(assertionFailure ?? error, capture.last(), resourceOf(request.scopes));
  }
};
