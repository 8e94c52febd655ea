import type { CredentialProvider } from '../azure/credential.ts';
import { commonJsExports } from '../core/interop.ts';
import type { KustoCluster } from './clusters.ts';
import { parseKustoJson, parseV1, parseV2, type KustoTable, type QueryResult } from './frames.ts';
import { requestIdLiteral } from './identifiers.ts';

/**
 * Talks to Kusto through `azure-kusto-data`, which supplies authentication
 * (token audience from the cluster's auth metadata), trusted-endpoint
 * checks, headers and request building. Responses come back as text
 * (`raw`) and are parsed by frames.ts. The SDK is imported on first use.
 */

export interface KustoRequest {
  cluster: KustoCluster;
  database: string;
  text: string;
  clientRequestId: string;
  /** Client request properties (`Options`). */
  options?: Record<string, unknown>;
  parameters?: Record<string, string | number>;
  /** Aborting stops waiting and sends `.cancel query` for this request id. */
  signal?: AbortSignal;
  /** `x-ms-user`: who the call is for (otherwise the SDK sends the OS user name). */
  user?: string;
}

/** A failure answered by the service (HTTP status and OneApi error) or the network. */
export class KustoRequestError extends Error {
  constructor(
    readonly status: number | undefined,
    readonly code: string,
    message: string,
    readonly clientRequestId: string,
    readonly activityId?: string,
    readonly retryAfterSeconds?: number,
    readonly permanent?: boolean,
  ) {
    super(message);
    this.name = 'KustoRequestError';
  }
}

export class KustoCancelledError extends Error {
  constructor(readonly clientRequestId: string) {
    super('The query was cancelled because the caller went away or its time ran out.');
    this.name = 'KustoCancelledError';
  }
}

export interface KustoGateway {
  query(request: KustoRequest): Promise<QueryResult>;
  /** Management commands; only ever text this server built (see identifiers.ts). */
  command(request: KustoRequest): Promise<KustoTable[]>;
}

type Sdk = typeof import('azure-kusto-data');
type SdkClient = InstanceType<Sdk['Client']>;

interface AxiosLikeError {
  code?: string;
  message: string;
  response?: { status: number; data: unknown; headers?: Record<string, unknown> };
  inner?: AxiosLikeError;
}

function toRequestError(error: unknown, clientRequestId: string): KustoRequestError {
  const cause = ((error as AxiosLikeError).inner ?? error) as AxiosLikeError;
  const response = cause.response;
  if (!response) {
    return new KustoRequestError(undefined, cause.code ?? 'NetworkError', cause.message, clientRequestId);
  }
  let body: { error?: Record<string, unknown> } = {};
  try {
    body = (typeof response.data === 'string' ? JSON.parse(response.data) : response.data) as typeof body;
  } catch {
    // Not JSON (a proxy or gateway page): keep the status only.
  }
  const oneApi = body?.error ?? {};
  const inner = (oneApi.innererror ?? {}) as Record<string, unknown>;
  const context = (oneApi['@context'] ?? {}) as Record<string, unknown>;
  const retryAfter = Number(response.headers?.['retry-after']);
  return new KustoRequestError(
    response.status,
    String(inner.code ?? oneApi.code ?? `HTTP${response.status}`),
    String(oneApi['@message'] ?? oneApi.message ?? `HTTP ${response.status}`),
    clientRequestId,
    (context.activityId as string | undefined) ?? (response.headers?.['x-ms-activity-id'] as string | undefined),
    Number.isFinite(retryAfter) ? retryAfter : undefined,
    typeof oneApi['@permanent'] === 'boolean' ? (oneApi['@permanent'] as boolean) : undefined,
  );
}

export interface KustoGatewayOptions {
  credential: CredentialProvider;
  clusters: readonly KustoCluster[];
  /** `x-ms-app` / `request_app_name`, visible in `.show queries`. */
  appName: string;
}

export function createKustoGateway(options: KustoGatewayOptions): KustoGateway {
  let sdk: Promise<Sdk> | undefined;
  const clients = new Map<string, Promise<SdkClient>>();

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

  const clientFor = (cluster: KustoCluster) => {
    let client = clients.get(cluster.url);
    if (!client) {
      client = Promise.all([loadSdk(), options.credential()]).then(([kusto, credential]) => {
        const created = new kusto.Client(kusto.KustoConnectionStringBuilder.withTokenCredential(cluster.url, credential));
        // Text in, our own parser out (see frames.ts).
        created.axiosInstance.defaults.responseType = 'text';
        return created;
      });
      clients.set(cluster.url, client);
    }
    return client;
  };

  async function send(kind: 'query' | 'command', request: KustoRequest): Promise<unknown> {
    const [kusto, client] = await Promise.all([loadSdk(), clientFor(request.cluster)]);
    const properties = new kusto.ClientRequestProperties();
    properties.raw = true;
    properties.clientRequestId = request.clientRequestId;
    properties.application = options.appName;
    properties.user = request.user ?? options.appName;
    for (const [name, value] of Object.entries(request.options ?? {})) properties.setOption(name, value);
    for (const [name, value] of Object.entries(request.parameters ?? {})) properties.setParameter(name, value);
    const call =
      kind === 'query'
        ? client.executeQuery(request.database, request.text, properties)
        : client.executeMgmt(request.database, request.text, properties);
    const raced = request.signal ? raceAbort(call, request.signal, request.clientRequestId, () => cancel(request)) : call;
    try {
      const body = await raced;
      return typeof body === 'string' ? parseKustoJson(body) : body;
    } catch (error) {
      if (error instanceof KustoCancelledError) throw error;
      throw toRequestError(error, request.clientRequestId);
    }
  }

  /** Best effort: any principal may cancel the queries it started. */
  function cancel(request: KustoRequest): void {
    void send('command', {
      cluster: request.cluster,
      database: request.database,
      text: `.cancel query ${requestIdLiteral(request.clientRequestId)} with (reason = "MCP caller went away or timed out")`,
      clientRequestId: `${request.clientRequestId}.cancel`,
    }).catch(() => undefined);
  }

  return {
    query: async (request) => parseV2(await send('query', request)),
    command: async (request) => parseV1(await send('command', request)),
  };
}

function raceAbort<T>(work: Promise<T>, signal: AbortSignal, clientRequestId: string, onAbort: () => void): Promise<T> {
  if (signal.aborted) {
    onAbort();
    return Promise.reject(new KustoCancelledError(clientRequestId));
  }
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      onAbort();
      reject(new KustoCancelledError(clientRequestId));
    };
    signal.addEventListener('abort', abort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(error);
      },
    );
  });
}
