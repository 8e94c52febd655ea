import { createHash, createPrivateKey, createSign, randomUUID, X509Certificate } from 'node:crypto';
import type { AccessToken, GetTokenOptions, OnBehalfOfCredentialOptions, TokenCredential } from '@azure/identity';
import { onBehalfOfAssertion, type Principal } from '../auth/principal.ts';
import type { CredentialProvider } from './credential.ts';
import type { SecretProvider } from './secrets.ts';
import {
  aadstsOf,
  CERTIFICATE_REJECTED,
  mapExchangeError,
  OnBehalfOfError,
  SECRET_REJECTED,
  type TokenErrorBody,
} from './on-behalf-of-errors.ts';

// The errors are part of this module's interface.
export * from './on-behalf-of-errors.ts';

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
