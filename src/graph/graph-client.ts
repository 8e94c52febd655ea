import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import type { Client, Middleware } from '@microsoft/microsoft-graph-client';
import { commonJsExports } from '../core/interop.ts';
import type { CircuitBreaker } from './circuit-breaker.ts';
import { GRAPH_VERSION, type GraphEndpoint } from './endpoint.ts';
import { CircuitBreakerLink, FetchLink, HostGuard, type FetchLike, type PassThrough } from './middleware.ts';
import { graphShouldRetry, type GraphRetryPolicy } from './retry-policy.ts';

/**
 * Creates `@microsoft/microsoft-graph-client` Clients. The SDK is imported
 * on the first `client()` call, so a cold start that serves no Graph call
 * never loads it.
 *
 * Every client sends each request through one middleware chain, the SDK's
 * handlers where they fit and ours around them:
 *
 *   HostGuard              only the configured endpoint (before any token is attached)
 *   AuthenticationHandler  TokenCredentialAuthenticationProvider, scope `<endpoint>/.default`
 *   CircuitBreakerLink     fail fast while Graph keeps failing (one outcome per request, after retries)
 *   RetryHandler           429 honouring Retry-After; 503/504 with backoff for GET only (retry-policy.ts)
 *   RedirectHandler        follows redirects (file downloads), dropping the token on another host
 *   TelemetryHandler       client-request-id and SdkVersion headers
 *   FetchLink              the injected fetch, a timeout per attempt, the call's abort signal
 *
 * A client is bound to one credential: the app's managed identity (one
 * client for every call) or one caller on behalf of whom the call runs (a
 * client of that call's own). The breaker is the factory's, shared.
 *
 * @example
 * const graph = createGraphClientFactory({ endpoint, requestTimeoutMs: 30_000, retry: DEFAULT_RETRY_POLICY, breaker });
 * const client = await graph.client(identities.for(ctx.caller).credential);
 * const teams = await client.api('/me/joinedTeams').option('signal', ctx.signal).get();
 */

export interface GraphClientFactoryOptions {
  endpoint: GraphEndpoint;
  /** Per attempt; a retried request gets it again for each attempt. */
  requestTimeoutMs: number;
  retry: GraphRetryPolicy;
  breaker: CircuitBreaker;
  /** Default: the global fetch, looked up at call time. */
  fetch?: FetchLike;
}

export interface GraphClientFactory {
  readonly endpoint: GraphEndpoint;
  /** A client whose requests carry `credential`'s token for the endpoint's scope. */
  client(credential: TokenCredential): Promise<Client>;
}

type Sdk = typeof import('@microsoft/microsoft-graph-client');
type AuthProviders = typeof import('@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js');

export function createGraphClientFactory(options: GraphClientFactoryOptions): GraphClientFactory {
  const { endpoint } = options;
  let loaded: Promise<{ sdk: Sdk; auth: AuthProviders }> | undefined;
  // One client per credential object: the managed identity's is shared by every call, a caller's goes with its call.
  const clients = new WeakMap<TokenCredential, Promise<Client>>();
  const shouldRetry = graphShouldRetry(options.retry);
  const fetch: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  const load = () =>
    (loaded ??= Promise.all([
      import('@microsoft/microsoft-graph-client'),
      import('@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js'),
    ]).then(([sdk, auth]) => ({ sdk: commonJsExports(sdk), auth: commonJsExports(auth) })));

  const build = async (credential: TokenCredential): Promise<Client> => {
    const { sdk, auth } = await load();
    const passThrough: PassThrough = (error) => {
      if (error instanceof sdk.GraphClientError) return error;
      const wrapped = new sdk.GraphClientError(error.message);
      wrapped.name = error.name;
      Object.defineProperty(wrapped, 'cause', { value: error, enumerable: false });
      return wrapped;
    };
    const provider = new auth.TokenCredentialAuthenticationProvider(credentialWithErrors(credential, passThrough), { scopes: [endpoint.scope] });
    const chain: Middleware[] = [
      new HostGuard(endpoint, passThrough),
      new sdk.AuthenticationHandler(provider),
      new CircuitBreakerLink(options.breaker, passThrough),
      new sdk.RetryHandler(new sdk.RetryHandlerOptions(options.retry.baseDelaySeconds, options.retry.maxRetries, shouldRetry)),
      new sdk.RedirectHandler(new sdk.RedirectHandlerOptions()),
      new sdk.TelemetryHandler(),
      new FetchLink(fetch, options.requestTimeoutMs, passThrough),
    ];
    return sdk.Client.initWithMiddleware({
      middleware: chain,
      baseUrl: endpoint.origin,
      defaultVersion: GRAPH_VERSION,
      // The SDK attaches tokens to its list of Microsoft Graph hosts and these; HostGuard already refused every other.
      customHosts: new Set([endpoint.hostname]),
    });
  };

  return {
    endpoint,
    client(credential) {
      let client = clients.get(credential);
      if (!client) {
        client = build(credential);
        clients.set(credential, client);
        client.catch(() => clients.delete(credential));
      }
      return client;
    },
  };
}

/**
 * The credential, with its failures (an on-behalf-of refusal, a managed
 * identity outage) wrapped so the Graph client rethrows them as they are
 * instead of flattening them into a GraphError: the tool must still tell
 * "consent is missing" from "Graph refused".
 */
function credentialWithErrors(credential: TokenCredential, passThrough: PassThrough): TokenCredential {
  return {
    async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
      try {
        return await credential.getToken(scopes, options);
      } catch (error) {
        throw passThrough(error instanceof Error ? error : new Error(String(error)));
      }
    },
  };
}
