/**
 * The emulator's HTTPS server: one listener on 127.0.0.1 for every emulated
 * Azure endpoint, routed by host name. It records every exchange, applies
 * injected faults, and turns a failing service into a recorded 500 rather
 * than a crash.
 *
 * @example
 * const emulator = await startEmulator();
 * Object.assign(process.env, emulator.env());
 * emulator.keyVault.setSecret('kusto-client-secret', 's3cret');
 * // ... exercise the product, then inspect emulator.requests
 * await emulator.close();
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { createAppInsightsIngestion, INGESTION_HOST, type AppInsightsIngestion, type TelemetryEnvelope } from './appinsights.ts';
import { loadOrCreateTestCa, resolveCaDir } from './ca.ts';
import { createEntraService, createTokenIssuer, LOGIN_HOST, v2Issuer, type MintOptions, type TokenIssuer } from './entra.ts';
import { createEntraDirectory, type EntraDirectory } from './entra-tenant.ts';
import { createGraphService, type GraphService } from './graph/index.ts';
import { createIdentityService, IDENTITY_HOST, IDENTITY_PATH, type ManagedIdentity } from './identity.ts';
import { createKeyVaultService, DEFAULT_VAULT, vaultHost, type SecretOptions, type StoredSecret } from './keyvault.ts';
import type { EmulatorContext, EmulatorService, FaultRule, RecordedRequest, TokenClaims } from './types.ts';

/** Absolute path of the DNS preload, for `--import` in processes that talk to the emulator. */
export const DNS_PRELOAD_PATH = fileURLToPath(new URL('./localhost-dns.mjs', import.meta.url));

/** Obviously fake, fixed ids so recordings and snapshots stay stable across runs. */
export const DEFAULT_TENANT_ID = '00000000-0000-4000-8000-0000000e7a17';
export const MANAGED_IDENTITY_CLIENT_ID = '00000000-0000-4000-8000-00000000c1d0';
export const MANAGED_IDENTITY_PRINCIPAL_ID = '00000000-0000-4000-8000-00000000b1d0';
const MANAGED_IDENTITY_RESOURCE_ID =
  '/subscriptions/00000000-0000-4000-8000-000000000000/resourcegroups/rg-emulator/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-emulator';
/** Default `oid`/`sub` of tokens minted for tests acting as a signed-in user. */
export const TEST_USER_ID = '00000000-0000-4000-8000-0000000005e7';

export interface EmulatorOptions {
  /** Extra services (e.g. Kusto), matched before the built-in ones. */
  services?: EmulatorService[];
  /** Defaults to a random free port. */
  port?: number;
  /** Listen address; defaults to 127.0.0.1. */
  host?: string;
  /** CA directory; defaults to `EMULATOR_CA_DIR` or a new temporary one. */
  caDir?: string;
  tenantId?: string;
}

export interface Emulator {
  readonly port: number;
  /** `ca.pem` of the CA that signed the server certificate. */
  readonly caPath: string;
  readonly tenantId: string;
  origin(host: string): string;
  url(host: string, path: string): string;
  /** Every exchange in arrival order, including those answered by faults. */
  readonly requests: RecordedRequest[];
  clearRequests(): void;
  requestsFor(service: string): RecordedRequest[];
  addFault(rule: FaultRule): void;
  clearFaults(): void;
  /** A token signed by the emulated Entra (v2 issuer, test user) unless claims override it. */
  mintToken(claims: Partial<TokenClaims> & { aud: string }, options?: MintOptions): Promise<string>;
  /** The emulated directory: tenants, the product API's app registration, consent, key rotation, API tokens (entra-tenant.ts). */
  readonly entra: EntraDirectory;
  /** The emulated Microsoft Graph on `graph.localhost`: the sample tenant, throttling and batch-item faults, calls (graph/service.ts). */
  readonly graph: GraphService;
  readonly identity: { endpoint: string; header: string; clientId: string; principalId: string; resourceId: string };
  readonly keyVault: {
    vaultUrl: string;
    setSecret(name: string, value: string, options?: SecretOptions): string;
    getSecret(name: string, options?: { vault?: string }): StoredSecret | undefined;
  };
  readonly appInsights: {
    connectionString: string;
    envelopes(): TelemetryEnvelope[];
    clearEnvelopes(): void;
    failItems: AppInsightsIngestion['failItems'];
    requireEntraAuth: boolean;
  };
  /** Environment variables that point the product at this emulator. */
  env(): Record<string, string>;
  close(): Promise<void>;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const ca = await loadOrCreateTestCa(options.caDir ?? (await resolveCaDir()));
  const tenantId = options.tenantId ?? DEFAULT_TENANT_ID;
  const issuer = await createTokenIssuer();
  const managedIdentity: ManagedIdentity = {
    tenantId,
    secret: randomBytes(16).toString('hex'),
    clientId: MANAGED_IDENTITY_CLIENT_ID,
    principalId: MANAGED_IDENTITY_PRINCIPAL_ID,
    resourceId: MANAGED_IDENTITY_RESOURCE_ID,
  };
  const keyVault = createKeyVaultService(tenantId);
  const ingestion = createAppInsightsIngestion(randomUUID());
  // The port is known only after listening; origins are computed on use.
  let port = 0;
  const origin = (host: string) => `https://${host}:${port}`;
  const ctx = createContext(origin, issuer);
  const entra = createEntraDirectory({ homeTenantId: tenantId, issuer, ctx, managedIdentity, defaultUserId: TEST_USER_ID });
  const graph = createGraphService({ tenantId, testUserId: TEST_USER_ID, origin });
  // The identity's app-only tokens carry the app roles an admin assigned it (emulator.entra.assignAppRoles).
  managedIdentity.rolesFor = (audience) => entra.appRolesFor(managedIdentity.principalId, audience);
  const services = [
    ...(options.services ?? []),
    createIdentityService(managedIdentity, issuer),
    createEntraService({ directory: entra, issuer }),
    keyVault,
    ingestion,
    graph,
  ];
  const requests: RecordedRequest[] = [];
  const faults = new FaultList();
  const server = createServer({ cert: ca.serverCert, key: ca.serverKey }, (incoming, outgoing) => {
    void exchange(incoming, outgoing, { services, ctx, faults, requests });
  });
  port = await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');

  const ingestionOrigin = origin(INGESTION_HOST);
  const identity = {
    endpoint: `${origin(IDENTITY_HOST)}${IDENTITY_PATH}`,
    header: managedIdentity.secret,
    clientId: managedIdentity.clientId,
    principalId: managedIdentity.principalId,
    resourceId: managedIdentity.resourceId,
  };
  const keyVaultApi = { vaultUrl: origin(vaultHost(DEFAULT_VAULT)), setSecret: keyVault.setSecret, getSecret: keyVault.getSecret };
  const appInsights = {
    connectionString: `InstrumentationKey=${ingestion.instrumentationKey};IngestionEndpoint=${ingestionOrigin}/;LiveEndpoint=${ingestionOrigin}/`,
    envelopes: ingestion.envelopes,
    clearEnvelopes: ingestion.clearEnvelopes,
    failItems: ingestion.failItems,
    get requireEntraAuth() {
      return ingestion.requireEntraAuth;
    },
    set requireEntraAuth(required: boolean) {
      ingestion.requireEntraAuth = required;
    },
  };
  return {
    port,
    caPath: ca.caPath,
    tenantId,
    origin,
    url: (host, path) => `${origin(host)}${path}`,
    requests,
    clearRequests: () => {
      requests.length = 0;
    },
    requestsFor: (service) => requests.filter((request) => request.service === service),
    addFault: (rule) => faults.add(rule),
    clearFaults: () => faults.clear(),
    mintToken: (claims, mintOptions) =>
      issuer.sign({ iss: v2Issuer(ctx, tenantId), tid: tenantId, oid: TEST_USER_ID, sub: TEST_USER_ID, ver: '2.0', ...claims }, mintOptions),
    entra,
    graph,
    identity,
    keyVault: keyVaultApi,
    appInsights,
    env: () => ({
      IDENTITY_ENDPOINT: identity.endpoint,
      IDENTITY_HEADER: identity.header,
      AZURE_CLIENT_ID: identity.clientId,
      AZURE_TENANT_ID: tenantId,
      AZURE_AUTHORITY_HOST: origin(LOGIN_HOST),
      KEY_VAULT_URL: keyVaultApi.vaultUrl,
      GRAPH_ENDPOINT: graph.endpoint,
      APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.connectionString,
      NODE_EXTRA_CA_CERTS: ca.caPath,
      NODE_OPTIONS: `--import=${DNS_PRELOAD_PATH}`,
      APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true',
      APPLICATIONINSIGHTS_SDKSTATS_DISABLED: 'true',
      // The switch the exporter (beta.47) actually reads to turn statsbeat off, and with it
      // its probe of the VM metadata service (169.254.169.254); the one above only drops
      // non-essential counters. The product's worker sets it too (appinsights-worker.ts).
      APPLICATION_INSIGHTS_NO_STATSBEAT: 'true',
    }),
    close: () => closeServer(server),
  };
}

function createContext(origin: (host: string) => string, issuer: TokenIssuer): EmulatorContext {
  return {
    origin,
    verifyBearer: async (req, audiences) => {
      const token = /^Bearer (\S+)$/i.exec(req.headers.get('authorization') ?? '')?.[1];
      return token ? issuer.verify(token, audiences) : null;
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  // SDK clients keep connections alive; without this, close() waits for their idle timeout.
  server.closeAllConnections();
  return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
}

/** Injected faults, matched in insertion order; a rule with `times` retires when used up. */
class FaultList {
  private rules: Array<{ rule: FaultRule; remaining: number }> = [];

  add(rule: FaultRule): void {
    this.rules.push({ rule, remaining: rule.times ?? Number.POSITIVE_INFINITY });
  }

  clear(): void {
    this.rules = [];
  }

  take(service: string, method: string, path: string): FaultRule | undefined {
    const entry = this.rules.find(
      ({ rule }) =>
        (rule.service === undefined || rule.service === service) &&
        (rule.method === undefined || rule.method.toUpperCase() === method) &&
        (rule.pathPrefix === undefined || path.startsWith(rule.pathPrefix)),
    );
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.rules = this.rules.filter((candidate) => candidate !== entry);
    return entry.rule;
  }
}

interface Dispatch {
  services: EmulatorService[];
  ctx: EmulatorContext;
  faults: FaultList;
  requests: RecordedRequest[];
}

interface Arrival {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Buffer;
  service: EmulatorService | undefined;
}

/**
 * One request/response exchange; never throws, so a bad request cannot crash
 * the emulator. The exchange is recorded on arrival (status 0 until answered)
 * and completed before the response leaves, so a client never sees a reply
 * whose recording is unfinished.
 */
async function exchange(incoming: IncomingMessage, outgoing: ServerResponse, dispatch: Dispatch): Promise<void> {
  try {
    const headers = flattenHeaders(incoming);
    const url = `https://${headers.host ?? ''}${incoming.url ?? '/'}`;
    const hostname = URL.canParse(url) ? new URL(url).hostname : undefined;
    const service = hostname === undefined ? undefined : dispatch.services.find((candidate) => candidate.matches(hostname));
    const arrival: Arrival = { method: incoming.method ?? 'GET', url, headers, body: await readBody(incoming), service };
    const record: RecordedRequest = {
      service: service?.name ?? 'unknown',
      method: arrival.method,
      url,
      headers,
      body: bodyText(arrival.body, headers['content-encoding']),
      status: 0,
      responseBody: '',
      at: Date.now(),
    };
    dispatch.requests.push(record);
    const response = await respond(arrival, dispatch);
    const responseBody = Buffer.from(await response.arrayBuffer());
    Object.assign(record, { status: response.status, responseBody: responseBody.toString('utf8') });
    outgoing.writeHead(response.status, Object.fromEntries(response.headers));
    outgoing.end(responseBody);
  } catch (error) {
    if (!outgoing.headersSent) outgoing.writeHead(500, { 'content-type': 'application/json' });
    outgoing.end(JSON.stringify({ error: { code: 'EmulatorError', message: String(error) } }));
  }
}

async function respond({ method, url, headers, body, service }: Arrival, { services, ctx, faults }: Dispatch): Promise<Response> {
  if (!URL.canParse(url)) return emulatorError(400, 'BadRequest', `Cannot build a URL from host '${headers.host ?? ''}'.`);
  const { hostname, pathname } = new URL(url);
  const serviceName = service?.name ?? 'unknown';
  const fault = faults.take(serviceName, method, pathname);
  // Unref'd: a long delay (a hanging service) must not keep a test process alive after the emulator closes.
  if (fault?.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs).unref());
  if (fault?.status !== undefined) return faultResponse(fault, fault.status);
  if (!service) return unknownHost(hostname, services);
  const hasBody = body.length > 0 && method !== 'GET' && method !== 'HEAD';
  try {
    return await service.handle(new Request(url, { method, headers, body: hasBody ? new Uint8Array(body) : undefined }), ctx);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return emulatorError(500, 'EmulatorServiceError', `${serviceName} failed: ${message}`);
  }
}

function emulatorError(status: number, code: string, message: string): Response {
  return Response.json({ error: { code, message } }, { status });
}

function faultResponse(rule: FaultRule, status: number): Response {
  const body = rule.body ?? { error: { code: 'InjectedFault', message: `Fault injected by the emulator (HTTP ${status}).` } };
  return Response.json(body, { status, headers: rule.headers });
}

function unknownHost(hostname: string, services: EmulatorService[]): Response {
  const known = services.map((service) => service.hostPattern ?? service.name).join(', ');
  return emulatorError(404, 'UnknownHost', `No emulated service answers for host '${hostname}'. Known hosts: ${known}.`);
}

function readBody(incoming: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => resolve(Buffer.concat(chunks)));
    incoming.on('error', reject);
  });
}

function flattenHeaders(incoming: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/** Request bodies are recorded as text; gzip (telemetry) is unpacked so tests can read it. */
function bodyText(body: Buffer, contentEncoding: string | undefined): string {
  if (contentEncoding?.toLowerCase() !== 'gzip') return body.toString('utf8');
  try {
    return gunzipSync(body).toString('utf8');
  } catch {
    return body.toString('base64');
  }
}
