import type { Agent } from 'node:https';
import type { DownstreamIdentity } from '../azure/downstream-identity.ts';
import { onBehalfOfErrorIn } from '../azure/on-behalf-of.ts';
import { commonJsExports } from '../core/interop.ts';
import type { KustoCluster } from './clusters.ts';
import { cancelQuery, type ManagementCommand } from './commands.ts';
import { parseKustoJson, parseV1, parseV2, type KustoTable, type QueryResult } from './frames.ts';
import { checkUserQuery } from './read-only-check.ts';
import { KustoCancelledError, KustoQueryRefusedError, KustoRequestError, toKustoError } from './request-error.ts';

import { abortKind } from '../core/abort.ts';
import type { Limiter } from '../core/limiter.ts';
export { KustoCancelledError, KustoCredentialError, KustoQueryRefusedError, KustoRequestError } from './request-error.ts';

/**
 * Talks to Kusto through `azure-kusto-data`, which supplies authentication
 * (token audience from the cluster's auth metadata), trusted-endpoint
 * checks, headers and request building. Responses come back as text
 * (`raw`) and are parsed by frames.ts. The SDK is imported on first use.
 *
 * Every query passes the read-only check and carries the confinement
 * options, added here so that no tool can forget them; commands can only
 * be the ones commands.ts builds.
 *
 * Every request names the identity it is sent as (`identity`, from
 * `KustoServices.session(caller)`): the app's managed identity shares one
 * SDK client per cluster; on behalf of a user, the call gets clients of its
 * own, bound to that user's credential, so two users' calls can never send
 * each other's token. All clients share one keep-alive connection pool
 * (TLS connections carry no identity; each request carries its token).
 */

/**
 * Sent with every query, after the caller's options so nothing overrides
 * them. Read-only (hardline also turns off plugins that cannot guarantee
 * it), confined to the cluster (no `cluster('…')`, no `externaldata` URLs,
 * no callouts such as `http_request`, no sandboxed plugins such as
 * `python()`, no impersonation in connection strings), and partial failures
 * reported where the result is (never deferred into completion
 * information), so truncation cannot pass as a complete result.
 */
export const CONFINEMENT_OPTIONS = Object.freeze({
  request_readonly: true,
  request_readonly_hardline: true,
  request_remote_entities_disabled: true,
  request_external_data_disabled: true,
  request_callout_disabled: true,
  request_sandboxed_execution_disabled: true,
  request_impersonation_disabled: true,
  deferpartialqueryfailures: false,
});

/** How much longer the cluster's own `servertimeout` is than our deadline: a backstop if our cancel is lost. */
export const SERVER_TIMEOUT_GRACE_MS = 2000;
/** How long commands may take when the caller sets no deadline. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;

interface CommonRequest {
  cluster: KustoCluster;
  database: string;
  clientRequestId: string;
  /** Aborting stops waiting and sends `.cancel query` for this request id. */
  signal?: AbortSignal;
  /** `x-ms-user`: who the call is for (otherwise the SDK sends the OS user name). */
  user?: string | undefined;
  /** Who the request is sent as; its cancel goes out as the same identity. */
  identity: DownstreamIdentity;
}

export interface KustoQueryRequest extends CommonRequest {
  /** User KQL (checked by read-only-check.ts before anything is sent). */
  text: string;
  /** Our deadline: when it passes the gateway stops waiting, cancels the query and throws KustoCancelledError('timeout'). */
  timeoutMs: number;
  /** Other client request properties (budgets, attribution); confinement and timeouts are the gateway's. */
  options?: Record<string, unknown>;
  parameters?: Record<string, string | number>;
}

export interface KustoCommandRequest extends CommonRequest {
  command: ManagementCommand;
  timeoutMs?: number;
}

export interface KustoGateway {
  query(request: KustoQueryRequest): Promise<QueryResult>;
  /** Management commands: only ever one commands.ts built. */
  command(request: KustoCommandRequest): Promise<KustoTable[]>;
}

type Sdk = typeof import('azure-kusto-data');
type SdkClient = InstanceType<Sdk['Client']>;

export interface KustoGatewayOptions {
  clusters: readonly KustoCluster[];
  /** `x-ms-app` / `request_app_name`, visible in `.show queries`. */
  appName: string;
  /** The instance's cap on concurrent backend calls; every call but a `.cancel query` takes a slot. */
  limiter: Limiter;
  /** Told of work that outlives its call (a `.cancel query`), so a shutdown can let it finish before the process exits. */
  background?: (work: Promise<unknown>) => void;
}

interface Send {
  kind: 'query' | 'command';
  request: CommonRequest;
  text: string;
  timeoutMs: number;
  options: Record<string, unknown>;
  parameters?: Record<string, string | number>;
  /** Whether giving up (deadline, caller gone) sends `.cancel query`; not for the cancel itself. */
  cancellable: boolean;
}

export function createKustoGateway(options: KustoGatewayOptions): KustoGateway {
  let sdk: Promise<Sdk> | undefined;
  let agent: Promise<Agent> | undefined;
  /** The app identity's clients, one per cluster (keyed by partition too, so no other identity can pick one up). */
  const appClients = new Map<string, Promise<SdkClient>>();
  /** Clients of one call acting for a user, per cluster; they go with the call's identity. */
  const callClients = new WeakMap<DownstreamIdentity, Map<string, Promise<SdkClient>>>();

  const loadSdk = () =>
    (sdk ??= import('azure-kusto-data').then((module) => {
      const loaded = commonJsExports(module) as Sdk;
      // The allow-list is the operator's statement of trust: make the SDK's endpoint check agree with it.
      loaded.kustoTrustedEndpoints.addTrustedHosts(
        options.clusters.map((cluster) => new loaded.MatchRule(new URL(cluster.url).hostname, true)),
        false,
      );
      return loaded;
    }));

  const sharedAgent = () => (agent ??= import('node:https').then(({ Agent: HttpsAgent }) => new HttpsAgent({ keepAlive: true })));

  const createClient = (cluster: KustoCluster, identity: DownstreamIdentity) =>
    Promise.all([loadSdk(), sharedAgent()]).then(([kusto, pool]) => {
      const created = new kusto.Client(kusto.KustoConnectionStringBuilder.withTokenCredential(cluster.url, identity.credential));
      // Text in, our own parser out (see frames.ts).
      created.axiosInstance.defaults.responseType = 'text';
      created.axiosInstance.defaults.httpsAgent = pool;
      return created;
    });

  const clientFor = (cluster: KustoCluster, identity: DownstreamIdentity) => {
    const clients = identity.mode === 'managedIdentity' ? appClients : (callClients.get(identity) ?? new Map<string, Promise<SdkClient>>());
    if (identity.mode !== 'managedIdentity') callClients.set(identity, clients);
    const key = `${identity.partition}\n${cluster.url}`;
    let client = clients.get(key);
    if (!client) {
      client = createClient(cluster, identity);
      clients.set(key, client);
    }
    return client;
  };

  async function send(message: Send): Promise<unknown> {
    // A cancel must never wait behind the calls it is there to stop.
    if (!message.cancellable) return sendNow(message);
    const release = await options.limiter.acquire(message.request.signal);
    try {
      return await sendNow(message);
    } finally {
      release();
    }
  }

  async function sendNow({ kind, request, text, timeoutMs, options: requestOptions, parameters, cancellable }: Send): Promise<unknown> {
    const [kusto, client] = await Promise.all([loadSdk(), clientFor(request.cluster, request.identity)]);
    const properties = new kusto.ClientRequestProperties();
    properties.raw = true;
    properties.clientRequestId = request.clientRequestId;
    properties.application = options.appName;
    properties.user = request.user ?? options.appName;
    for (const [name, value] of Object.entries(requestOptions)) properties.setOption(name, value);
    // Milliseconds: the SDK writes them as a timespan. The cluster's limit is a backstop behind our own deadline.
    properties.setTimeout(timeoutMs + SERVER_TIMEOUT_GRACE_MS);
    // The SDK's socket timeout would otherwise be servertimeout + 30 s, past the Functions HTTP limit.
    properties.setClientTimeout(timeoutMs + 2 * SERVER_TIMEOUT_GRACE_MS);
    for (const [name, value] of Object.entries(parameters ?? {})) properties.setParameter(name, value);
    const call = kind === 'query' ? client.executeQuery(request.database, text, properties) : client.executeMgmt(request.database, text, properties);
    try {
      const body = await withDeadline(call, timeoutMs, request, () => {
        if (cancellable) cancel(request);
      });
      return typeof body === 'string' ? parseKustoJson(body) : body;
    } catch (error) {
      if (error instanceof KustoCancelledError) throw error;
      // No token for the user (consent, assignment, a claims challenge): nothing was sent; the tool says what to do.
      const onBehalfOf = onBehalfOfErrorIn(error);
      if (onBehalfOf) throw onBehalfOf;
      const failure = toKustoError(error, request.clientRequestId);
      if (failure instanceof KustoRequestError) failure.details.identity = request.identity.mode;
      throw failure;
    }
  }

  /** Best effort: any principal may cancel the queries it started. */
  function cancel(request: CommonRequest): void {
    const sent = send({
      kind: 'command',
      request: { cluster: request.cluster, database: request.database, clientRequestId: `${request.clientRequestId}.cancel`, identity: request.identity },
      text: cancelQuery(request.clientRequestId, 'MCP caller went away or timed out').text,
      timeoutMs: 10_000,
      options: {},
      cancellable: false,
    }).catch(() => undefined);
    options.background?.(sent);
  }

  return {
    async query(request) {
      const refusal = checkUserQuery(request.text);
      if (refusal) throw new KustoQueryRefusedError(refusal);
      const body = await send({
        kind: 'query',
        request,
        text: request.text,
        timeoutMs: request.timeoutMs,
        options: { ...request.options, ...CONFINEMENT_OPTIONS },
        parameters: request.parameters,
        cancellable: true,
      });
      try {
        return parseV2(body);
      } catch (error) {
        throw new KustoRequestError(200, 'UnexpectedResponse', (error as Error).message, request.clientRequestId);
      }
    },
    async command(request) {
      const body = await send({ kind: 'command', request, text: request.command.text, timeoutMs: request.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS, options: {}, cancellable: true });
      const { tables, errors } = parseV1(body);
      const [failure] = errors;
      if (failure) throw new KustoRequestError(200, failure.code, failure.message, request.clientRequestId);
      return tables;
    },
  };
}

/**
 * Resolves with `work`, unless the caller's signal aborts or the deadline
 * passes first: then `onCancel` runs once and it rejects with
 * KustoCancelledError, whose reason tells our deadline (`timeout`) from the
 * client going away (`client_disconnected`) or cancelling (`cancelled`). The deadline is a timer of our own, cleared when the
 * call settles (`AbortSignal.timeout` combined with `AbortSignal.any` can fire
 * late under load: nodejs/node#57736).
 */
export function withDeadline<T>(work: Promise<T>, timeoutMs: number, request: { clientRequestId: string; signal?: AbortSignal }, onCancel: () => void): Promise<T> {
  const { signal, clientRequestId } = request;
  if (signal?.aborted) {
    work.catch(() => undefined);
    onCancel();
    return Promise.reject(new KustoCancelledError(clientRequestId, abortKind(signal.reason)));
  }
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      outcome();
    };
    const stop = (reason: KustoCancelledError['reason']) =>
      finish(() => {
        work.catch(() => undefined);
        onCancel();
        reject(new KustoCancelledError(clientRequestId, reason));
      });
    // The signal's reason says who stopped the call: the client going away, or a cancel (see core/abort.ts).
    const onAbort = () => stop(abortKind(signal?.reason));
    const timer = setTimeout(() => stop('timeout'), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => finish(() => resolve(value)),
      (error: unknown) => finish(() => reject(error)),
    );
  });
}
