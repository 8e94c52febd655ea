/**
 * The emulated Microsoft Graph on `graph.localhost` (and its file-download host
 * `sharepoint.localhost`): bearer-token checks, throttling, `$batch`, and the routes of the
 * other modules in this folder, over the sample tenant (`sample-tenant.ts`).
 *
 * Tokens are checked as Graph does (graph-protocol.md §1, §11): signed by the emulated Entra,
 * not expired, audience Graph (`https://graph.microsoft.com`, Graph's app id
 * `00000003-0000-0000-c000-000000000000`, or this emulator's Graph origin, which the emulated
 * Entra registers as a Graph identifier); otherwise 401 `InvalidAuthenticationToken` with a
 * `WWW-Authenticate` challenge. A token with neither `scp` nor `roles` is 401 "Either scp or
 * roles claim need to be present in the token." (Graph's answer, e.g. for a managed identity with
 * no app-role assignment). Paths without a version are 400 "Invalid version". Every response
 * carries `request-id` and `client-request-id`.
 *
 * @example
 * const emulator = await startEmulator();
 * emulator.graph.throttleNext(1, 2);           // the next request: 429, Retry-After: 2
 * emulator.graph.failBatchItems({ urlPrefix: '/teams', status: 429, retryAfterSeconds: 1 });
 * emulator.graph.tenant.teams;                 // the data the product reads and writes
 * emulator.graph.calls.at(-1);                 // { method, path, status, batchItemId?, caller }
 */
import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { DEFAULT_USER_NAME, DEFAULT_USER_UPN, GRAPH_APP_ID } from '../entra-tenant.ts';
import type { EmulatorContext, EmulatorService, TokenClaims } from '../types.ts';
import { BatchFailures, failedDependency, parseBatch, type BatchItem, type BatchItemFailure, type BatchItemResponse } from './batch.ts';
import type { Caller, GraphCall } from './context.ts';
import { addChatRoutes } from './chats.ts';
import { addDirectoryRoutes } from './directory.ts';
import { errorBody, errorResponse, GraphError, ODATA_JSON, type RequestIds } from './errors.ts';
import { addFileRoutes, DOWNLOAD_HOST, DownloadSigner, serveDownload } from './files.ts';
import { addOutlookRoutes } from './outlook.ts';
import { resolveMe, Router, segmentsOf } from './router.ts';
import { createSampleTenant, GRAPH_SAMPLE_NOW } from './sample-tenant.ts';
import { addSearchRoutes } from './search.ts';
import { GraphTenant, type TenantData } from './store.ts';
import { addTeamsRoutes, type TeamsBehaviour } from './teams.ts';
import { Throttler, type EarlyRetry, type ThrottleOptions } from './throttling.ts';

export const GRAPH_HOST = 'graph.localhost';
/** The audience Graph tokens carry in the public cloud. */
export const GRAPH_RESOURCE = 'https://graph.microsoft.com';

export interface GraphServiceOptions {
  tenantId: string;
  /** Object id of the emulated Entra's signed-in test user (a user of the sample tenant). */
  testUserId: string;
  /** `https://<host>:<port>` of the emulator for a host name (known once it listens). */
  origin: (host: string) => string;
  /** Replaces the sample tenant. */
  data?: TenantData;
  /** The clock of throttling windows, timestamps of new items and download URLs; defaults to Date.now. */
  now?: () => number;
}

/** One Graph call as the emulator resolved it: a top-level request or a `$batch` item. */
export interface GraphCallRecord {
  method: string;
  /** Path and query below the version root, as sent (e.g. `/me/messages?$top=5`). */
  path: string;
  status: number;
  caller?: { kind: Caller['kind']; userId?: string; appId: string };
  /** The `$batch` request it came in, by that request's `request-id`, and the item's id. */
  batchRequestId?: string;
  batchItemId?: string;
  requestId: string;
  at: number;
}

export interface GraphService extends EmulatorService {
  readonly name: 'graph';
  /** `https://graph.localhost:<port>`: the value of the product's `GRAPH_ENDPOINT` setting. */
  readonly endpoint: string;
  /** The data served; tests read and change it. */
  readonly tenant: GraphTenant;
  /** Every resolved call (batch items included), in order. */
  readonly calls: GraphCallRecord[];
  /** Requests that came back before their `Retry-After` elapsed (what Dev Proxy warns about). */
  readonly earlyRetries: EarlyRetry[];
  /** The next `count` matching requests answer 429 (or 503) with `Retry-After: retryAfterSeconds`. */
  throttleNext(count: number, retryAfterSeconds: number, options?: ThrottleOptions): void;
  /** Fails matching `$batch` items (default: 429 with `Retry-After: 1`, once). */
  failBatchItems(rule: BatchItemFailure): void;
  /** How the next team creations progress: statuses of the first polls, then the outcome. */
  setTeamCreation(options: { pendingPolls?: string[]; outcome?: 'succeeded' | 'failed' }): void;
  /** Whether app-only reads of Teams messages (protected APIs) are approved; true by default. */
  setProtectedApiApproval(approved: boolean): void;
  /** Clears calls, throttling and injected failures, and restores default behaviour (not the data). */
  reset(): void;
}

interface Exchange {
  method: string;
  /** Path and query below the version root. */
  target: string;
  headers: Headers;
  body: unknown;
  caller: Caller;
  ids: RequestIds;
  batch?: { requestId: string; itemId: string };
}

export function createGraphService(options: GraphServiceOptions): GraphService {
  const now = options.now ?? (() => Date.now());
  const endpoint = () => options.origin(GRAPH_HOST);
  const tenant = new GraphTenant(options.data ?? createSampleTenant({ tenantId: options.tenantId, testUser: { id: options.testUserId, upn: DEFAULT_USER_UPN, displayName: DEFAULT_USER_NAME } }));
  const throttler = new Throttler(now);
  const batchFailures = new BatchFailures();
  const signer = new DownloadSigner();
  const defaults: TeamsBehaviour = { pendingPolls: ['notStarted', 'inProgress'], outcome: 'succeeded', protectedApiApproved: true };
  const behaviour: TeamsBehaviour = { ...defaults, pendingPolls: [...defaults.pendingPolls] };
  const calls: GraphCallRecord[] = [];
  const router = new Router();
  addDirectoryRoutes(router);
  addTeamsRoutes(router, behaviour);
  addChatRoutes(router, behaviour);
  addOutlookRoutes(router);
  addFileRoutes(router, signer);
  addSearchRoutes(router);

  /** One call below the version root (a top-level request or a batch item); never throws. */
  async function dispatch(exchange: Exchange, version: string): Promise<Response> {
    const [rawPath = '', rawQuery = ''] = splitTarget(exchange.target);
    let status = 500;
    try {
      const resolved = resolveMe(segmentsOf(rawPath), exchange.caller);
      const { route, params } = router.match(exchange.method, resolved.segments);
      const call: GraphCall = {
        method: exchange.method,
        path: `/${resolved.segments.join('/')}`,
        requestedPath: rawPath.startsWith('/') ? rawPath : `/${rawPath}`,
        viaMe: resolved.viaMe,
        params,
        query: new URLSearchParams(rawQuery),
        headers: exchange.headers,
        body: exchange.body,
        caller: exchange.caller,
        ids: exchange.ids,
        tenant,
        root: `${endpoint()}/${version}`,
        origin: endpoint(),
        now,
      };
      const response = await route.handle(call);
      status = response.status;
      return response;
    } catch (error) {
      const graphError = error instanceof GraphError ? error : new GraphError(500, 'generalException', `The emulated Graph failed: ${error instanceof Error ? error.message : String(error)}`);
      status = graphError.status;
      return errorResponse(graphError, exchange.ids);
    } finally {
      calls.push({
        method: exchange.method,
        path: exchange.target,
        status,
        caller: { kind: exchange.caller.kind, userId: exchange.caller.userId, appId: exchange.caller.appId },
        ...(exchange.batch ? { batchRequestId: exchange.batch.requestId, batchItemId: exchange.batch.itemId } : {}),
        requestId: exchange.ids.requestId,
        at: now(),
      });
    }
  }

  async function runBatch(envelope: Exchange, version: string): Promise<Response> {
    const items = parseBatch(envelope.body);
    const results = new Map<string, BatchItemResponse>();
    for (const item of items) {
      const failed = item.dependsOn.find((dependency) => (results.get(dependency)?.status ?? 0) >= 400);
      results.set(item.id, failed !== undefined ? failedDependency(item, failed) : await runItem(envelope, item, version));
    }
    const responses = items.map((item) => results.get(item.id)!).reverse();
    return new Response(JSON.stringify({ responses }), { status: 200, headers: { 'content-type': ODATA_JSON, 'request-id': envelope.ids.requestId, 'client-request-id': envelope.ids.clientRequestId } });
  }

  async function runItem(envelope: Exchange, item: BatchItem, version: string): Promise<BatchItemResponse> {
    const ids = { requestId: randomUUID(), clientRequestId: envelope.ids.clientRequestId };
    const client = envelope.caller.throttleKey;
    const target = item.url.startsWith('/') ? item.url : `/${item.url}`;
    const early = throttler.checkItem(client, item.method, target);
    const injected = early ? undefined : batchFailures.take(item);
    const refusal =
      early ??
      (/^https?:/i.test(item.url) ? new GraphError(400, 'BadRequest', 'Invalid request URL: batch request URLs must be relative to the version root.') : undefined) ??
      (/^\/?\$batch/i.test(item.url) ? new GraphError(400, 'BadRequest', 'A batch request cannot contain another $batch request.') : undefined) ??
      (injected ? injectedFailure(injected) : undefined);
    if (injected && (injected.status ?? 429) === 429) throttler.openItem(client, item.method, target, injected.retryAfterSeconds ?? 1);
    let response: Response;
    if (refusal) {
      response = errorResponse(refusal, ids);
      calls.push({ method: item.method, path: target, status: refusal.status, caller: { kind: envelope.caller.kind, userId: envelope.caller.userId, appId: envelope.caller.appId }, batchRequestId: envelope.ids.requestId, batchItemId: item.id, requestId: ids.requestId, at: now() });
    } else {
      response = await dispatch({ method: item.method, target, headers: new Headers(item.headers), body: item.body, caller: envelope.caller, ids, batch: { requestId: envelope.ids.requestId, itemId: item.id } }, version);
    }
    const text = await response.text();
    const headers: Record<string, string> = {};
    for (const [name, value] of response.headers) {
      if (name === 'request-id' || name === 'client-request-id') continue;
      headers[name === 'retry-after' ? 'Retry-After' : name === 'content-type' ? 'Content-Type' : name === 'location' ? 'Location' : name] = value;
    }
    return { id: item.id, status: response.status, headers, ...(text === '' ? {} : { body: parseMaybeJson(text) }) };
  }

  async function handleGraph(req: Request, ctx: EmulatorContext): Promise<Response> {
    const url = new URL(req.url);
    const ids: RequestIds = { requestId: randomUUID(), clientRequestId: req.headers.get('client-request-id') ?? '' };
    ids.clientRequestId ||= ids.requestId;
    const versionMatch = /^\/(v1\.0|beta)(\/.*)?$/i.exec(url.pathname);
    if (!versionMatch) {
      const first = url.pathname.split('/').filter(Boolean)[0] ?? '';
      return errorResponse(new GraphError(400, 'BadRequest', `Invalid version: ${first}`), ids);
    }
    const version = versionMatch[1]!.toLowerCase() === 'beta' ? 'beta' : 'v1.0';
    const target = `${versionMatch[2] ?? '/'}${url.search}`;
    const authenticated = await authenticate(req, ctx, ids);
    if (authenticated instanceof Response) return authenticated;
    const caller = authenticated;
    const throttled = throttler.check(caller.throttleKey, req.method, versionMatch[2] ?? '/');
    if (throttled) {
      calls.push({ method: req.method, path: target, status: throttled.status, caller: { kind: caller.kind, userId: caller.userId, appId: caller.appId }, requestId: ids.requestId, at: now() });
      return errorResponse(throttled, ids);
    }
    let body: unknown;
    const text = await req.text();
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        return errorResponse(new GraphError(400, 'BadRequest', 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.'), ids);
      }
    }
    const exchange: Exchange = { method: req.method, target, headers: req.headers, body, caller, ids };
    if (/^\/\$batch\/?$/i.test(versionMatch[2] ?? '')) {
      if (req.method !== 'POST') return errorResponse(new GraphError(405, 'BadRequest', '$batch accepts only POST.'), ids);
      try {
        return await runBatch(exchange, version);
      } catch (error) {
        if (error instanceof GraphError) return errorResponse(error, ids);
        throw error;
      }
    }
    return dispatch(exchange, version);
  }

  async function authenticate(req: Request, ctx: EmulatorContext, ids: RequestIds): Promise<Caller | Response> {
    const challenge = { 'WWW-Authenticate': `Bearer realm="", authorization_uri="${options.origin('login.localhost')}/common/oauth2/authorize", client_id="${GRAPH_APP_ID}"` };
    const refuse = (message: string) => new Response(JSON.stringify(errorBody('InvalidAuthenticationToken', message, ids)), { status: 401, headers: { 'content-type': ODATA_JSON, 'request-id': ids.requestId, 'client-request-id': ids.clientRequestId, ...challenge } });
    const raw = /^Bearer\s+(\S+)$/i.exec(req.headers.get('authorization') ?? '')?.[1];
    if (!raw) return refuse('Access token is empty.');
    const claims = await ctx.verifyBearer(req, [GRAPH_RESOURCE, GRAPH_APP_ID, endpoint()]);
    if (!claims) {
      let audience: unknown;
      try {
        audience = decodeJwt(raw).aud;
      } catch {
        return refuse('IDX14100: JWT is not well formed.');
      }
      const accepted = [GRAPH_RESOURCE, GRAPH_APP_ID, endpoint()].map((value) => value.toLowerCase());
      return refuse(typeof audience === 'string' && !accepted.includes(audience.replace(/\/+$/, '').toLowerCase()) ? 'Access token validation failure. Invalid audience.' : 'Access token validation failure.');
    }
    return callerOf(claims) ?? refuse('Either scp or roles claim need to be present in the token.');
  }

  return {
    name: 'graph',
    hostPattern: `${GRAPH_HOST}, ${DOWNLOAD_HOST}`,
    matches: (hostname) => hostname === GRAPH_HOST || hostname === DOWNLOAD_HOST,
    async handle(req, ctx) {
      if (new URL(req.url).hostname === DOWNLOAD_HOST) return serveDownload(req, tenant, signer, now());
      return handleGraph(req, ctx);
    },
    get endpoint() {
      return endpoint();
    },
    tenant,
    calls,
    earlyRetries: throttler.earlyRetries,
    throttleNext: (count, retryAfterSeconds, throttleOptions) => throttler.throttleNext(count, retryAfterSeconds, throttleOptions),
    failBatchItems: (rule) => batchFailures.add(rule),
    setTeamCreation: ({ pendingPolls, outcome }) => {
      if (pendingPolls) behaviour.pendingPolls = [...pendingPolls];
      if (outcome) behaviour.outcome = outcome;
    },
    setProtectedApiApproval: (approved) => {
      behaviour.protectedApiApproved = approved;
    },
    reset: () => {
      calls.length = 0;
      throttler.reset();
      batchFailures.clear();
      Object.assign(behaviour, { ...defaults, pendingPolls: [...defaults.pendingPolls] });
    },
  };
}

/** Delegated when the token has `scp` (and is not marked app-only); app-only with `roles`. */
export function callerOf(claims: TokenClaims): Caller | undefined {
  const appId = String(claims.appid ?? claims.azp ?? '');
  const scopes = typeof claims.scp === 'string' ? claims.scp.split(' ').filter(Boolean) : [];
  const roles = Array.isArray(claims.roles) ? claims.roles.map(String) : [];
  const tenantId = String(claims.tid ?? '');
  if (scopes.length > 0 && claims.idtyp !== 'app') {
    return { kind: 'delegated', userId: String(claims.oid), appId, tenantId, permissions: scopes, throttleKey: `${tenantId}/${appId}/${String(claims.oid)}` };
  }
  if (roles.length > 0) return { kind: 'application', appId, tenantId, permissions: roles, throttleKey: `${tenantId}/${appId}` };
  return undefined;
}

function injectedFailure(rule: BatchItemFailure): GraphError {
  const status = rule.status ?? 429;
  const retryAfter = String(rule.retryAfterSeconds ?? 1);
  if (status === 429) return new GraphError(429, 'activityLimitReached', 'The request has been throttled.', { innerCode: 'throttledRequest', headers: { 'Retry-After': retryAfter } });
  if (status === 503) return new GraphError(503, 'serviceNotAvailable', 'The service is temporarily unavailable.', { headers: { 'Retry-After': retryAfter } });
  return new GraphError(status, status >= 500 ? 'generalException' : 'BadRequest', `Failure injected by the emulator (HTTP ${status}).`);
}

function splitTarget(target: string): [string, string] {
  const index = target.indexOf('?');
  return index < 0 ? [target, ''] : [target.slice(0, index), target.slice(index + 1)];
}

function parseMaybeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export { GRAPH_SAMPLE_NOW };
