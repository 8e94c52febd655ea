/**
 * The emulated Azure Data Explorer (Kusto) cluster on `<cluster>.kusto.localhost`.
 *
 * Speaks the REST protocol the real `azure-kusto-data` client uses:
 * `GET /v1/rest/auth/metadata` (unauthenticated), `POST /v2/rest/query`
 * (v2 frames), `POST /v1/rest/query` and `POST /v1/rest/mgmt` (v1 tables).
 * Everything but the metadata needs a bearer token for the advertised
 * audience. Test hooks inject throttling, auth failures, slow queries and
 * denied databases, and every query and command is recorded.
 *
 * @example
 * const kusto = createKustoService();
 * const emulator = await startEmulator({ services: [kusto] });
 * // product queries https://samples.kusto.localhost:<port> ...
 * kusto.queries.at(-1)?.options.request_readonly; // true
 */
import { randomUUID } from 'node:crypto';
import { KustoCatalog, type ColumnDefinition, type DatabaseDefinition, type TableDefinition } from './catalog.ts';
import { buildV1QueryBody, buildV2Body, serializeResults, v1Body, v1Table, type Limits } from './frames.ts';
import { runQuery, type QueryOutcome } from './kql-engine.ts';
import { KqlError, syntaxError, unsupported } from './kql-errors.ts';
import { officialSyntaxErrors, warmUpOfficialParser } from './official-parser.ts';
import { formatTimespan, type KqlValue, type Row } from './kql-types.ts';
import { runCommand, type CommandContext } from './management.ts';
import {
  badRequestBody,
  cancelledError,
  commandOnQueryEndpointText,
  databaseNotFoundBody,
  forbiddenBody,
  internalErrorBody,
  queryErrorBody,
  readOnlyBody,
  throttledBody,
  timeoutBody,
  truncationError,
  unauthorizedBody,
  type OneApiError,
  type RequestIds,
} from './one-api.ts';
import {
  allowedSetOptions,
  effectiveLimits,
  errorPlacement,
  parseBody,
  parseQueryNow,
  positiveNumber,
  serverTimeout,
  serverTimeoutOr,
  isCommandText,
  truthy,
  type ParsedBody,
} from './request.ts';
import { createSampleDatabases, DEFAULT_NOW } from './sample-data.ts';
import type { EmulatorContext, EmulatorService, TokenClaims } from '../types.ts';

/** What the public cloud's metadata advertises; the SDK asks for `<this>/.default`. */
export const PUBLIC_KUSTO_RESOURCE_ID = 'https://kusto.kusto.windows.net';
export const KUSTO_HOST_SUFFIX = '.kusto.localhost';
export const DEFAULT_MAX_RECORDS = 500_000;
export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

export interface KustoServiceOptions {
  /** Databases to serve; defaults to the sample databases (Samples, AppTelemetry, Metrics). */
  databases?: DatabaseDefinition[];
  /** The cluster's `now()` (and the anchor of the sample data); defaults to 2024-06-01T12:00:00Z. */
  now?: number | Date;
  /** `KustoServiceResourceId` in the auth metadata, i.e. the token audience; defaults to the public cloud's. */
  resourceId?: string;
  /** `LoginEndpoint` in the auth metadata; defaults to the emulator's `login.localhost` origin. */
  loginEndpoint?: string;
  /**
   * How `query_take_max_records` caps results: like `truncationmaxrecords` with a partial failure
   * (default), or silently. The real service's behaviour here is unverified.
   */
  takeMaxRecordsMode?: 'partial-failure' | 'silent';
  /** Service-side truncation defaults (500,000 records, 64 MB). */
  defaultLimits?: Partial<Limits>;
  /**
   * Database Viewer roles to start with (`database` `'*'`: AllDatabasesViewer). With none, the
   * cluster is open: every valid token may read every database (what the tests of other features
   * assume, the app's managed identity included). Once any role exists, only role holders read.
   */
  viewers?: ReadonlyArray<{ database: string; principal: string }>;
}

/** Who called, from the token Kusto received (what the service itself authorizes by). */
export interface KustoCallerIdentity {
  oid: string;
  tid: string;
  /** `user` or `app` (the claim, or inferred as principalOf does). */
  idtyp: string;
  /** Client id of the app the token was issued to (for an on-behalf-of token: the middle-tier API). */
  appid?: string;
  /** Delegated scopes (user tokens). */
  scp?: string;
  upn?: string;
  /** The token's audience. */
  aud: string;
}

export type KustoEndpoint = 'v2-query' | 'v1-query' | 'mgmt';

export interface RecordedKustoRequest {
  endpoint: KustoEndpoint;
  cluster: string;
  database: string;
  csl: string;
  options: Record<string, unknown>;
  parameters: Record<string, unknown>;
  clientRequestId: string;
  /** `x-ms-app`, `x-ms-user`, `x-ms-client-version`, `x-ms-readonly` as sent. */
  app?: string;
  user?: string;
  clientVersion?: string;
  readonlyHeader?: string;
  /** `aadapp=<appid>;<tenant>` or `aaduser=<oid>;<tenant>`. */
  principal?: string;
  /** The caller's claims that matter to authorization. */
  identity?: KustoCallerIdentity;
  at: number;
  /** Final HTTP status, filled in when the response is ready (0 while running). */
  status: number;
  outcome: 'running' | 'ok' | 'truncated' | 'error' | 'timeout' | 'cancelled' | 'fault' | 'refused';
  rowCount?: number;
  /** Kusto error code of a failure, e.g. `SEM0100`, `LimitsExceeded`, `TooManyRequests`. */
  errorCode?: string;
}

export interface RecordedCancellation {
  clientRequestId: string;
  reason: string;
  at: number;
  /** Whether a query with that id was still running (and got cancelled). */
  wasRunning: boolean;
  /** Who sent the `.cancel query`. */
  principal?: string;
}

export type KustoFaultKind = 'throttle' | 'unauthorized' | 'forbidden' | 'timeout' | 'internal';

export interface KustoFaultOptions {
  /** How many requests fail; default 1. */
  count?: number;
  /** `Retry-After` seconds for throttling; default 1. */
  retryAfterSeconds?: number;
  /** Which requests: queries (v2 and v1), management commands, or any (default). */
  endpoint?: 'query' | 'mgmt' | 'any';
}

export interface AccessDenial {
  /** Matches the token's oid, appid/azp, sub, upn or the `aadapp=…`/`aaduser=…` principal; any principal when omitted. */
  principal?: string;
  /** Database name (case-insensitive); every database when omitted. */
  database?: string;
}

export interface KustoService extends EmulatorService {
  readonly name: 'kusto';
  readonly catalog: KustoCatalog;
  /** Queries (`/v2/rest/query`, `/v1/rest/query`) in arrival order. */
  readonly queries: RecordedKustoRequest[];
  /** Management commands (`/v1/rest/mgmt`), including refused writes. */
  readonly commands: RecordedKustoRequest[];
  readonly cancellations: RecordedCancellation[];
  /** The audience tokens must carry (besides the cluster URL itself). */
  readonly resourceId: string;
  readonly now: number;
  /** Adds a table and bumps the database's schema version. */
  addTable(database: string, table: TableDefinition): void;
  /** Adds a column (existing rows get null / '') and bumps the database's schema version. */
  addColumn(database: string, table: string, column: ColumnDefinition, fill?: KqlValue): void;
  /** `vMAJOR.MINOR` of a database's schema. */
  schemaVersion(database: string): string;
  /** Makes the next `times` queries (all, when omitted) take `ms` longer; `Infinity` hangs until timeout or cancel. */
  setQueryDelay(ms: number, times?: number): void;
  /** Answers the next requests with a Kusto-shaped failure. */
  failNext(kind: KustoFaultKind, options?: KustoFaultOptions): void;
  /** Refuses matching principals/databases with 403 Forbidden. */
  denyAccess(rule: AccessDenial): void;
  clearDenials(): void;
  /**
   * Makes `principal` a Viewer of `database` (`'*'`: every database). `principal` is matched as Kusto
   * names principals: a user by object id, UPN or `aaduser=<oid>;<tenant>`; an application by client
   * id or `aadapp=<appid>;<tenant>` (a user's delegated token is the user, never the app it was
   * issued to). The first role turns role-based access on: from then on principals without a role
   * on a database neither read it nor see it, and principals without any role are refused at the door.
   */
  grantViewer(database: string, principal: string): void;
  revokeViewer(database: string, principal: string): void;
  /** Back to the open cluster (no roles). */
  clearRoles(): void;
  /** Client request ids of queries currently running (waiting on a delay). */
  runningQueries(): string[];
  /** Clears records, faults, delays and denials, and puts the roles back to the options' (not schema changes). */
  reset(): void;
}

interface RunningQuery {
  clientRequestId: string;
  cancel(reason: string): void;
}

interface Fault {
  kind: KustoFaultKind;
  remaining: number;
  retryAfterSeconds: number;
  endpoint: 'query' | 'mgmt' | 'any';
}

export function createKustoService(options: KustoServiceOptions = {}): KustoService {
  warmUpOfficialParser();
  const now = options.now instanceof Date ? options.now.getTime() : (options.now ?? DEFAULT_NOW);
  const resourceId = (options.resourceId ?? PUBLIC_KUSTO_RESOURCE_ID).replace(/\/+$/, '');
  const catalog = new KustoCatalog(options.databases ?? createSampleDatabases(now));
  const defaults: Limits = { maxRecords: options.defaultLimits?.maxRecords ?? DEFAULT_MAX_RECORDS, maxBytes: options.defaultLimits?.maxBytes ?? DEFAULT_MAX_BYTES };
  const queries: RecordedKustoRequest[] = [];
  const commands: RecordedKustoRequest[] = [];
  const cancellations: RecordedCancellation[] = [];
  const running = new Map<string, RunningQuery>();
  let faults: Fault[] = [];
  let denials: AccessDenial[] = [];
  /** database (lower case, or `*`) → principal names holding Viewer there. */
  let viewers = new Map<string, Set<string>>();
  const grantViewer = (database: string, principal: string) => {
    const key = database === '*' ? '*' : database.toLowerCase();
    const holders = viewers.get(key) ?? new Set<string>();
    holders.add(principal.toLowerCase());
    viewers.set(key, holders);
  };
  const initialRoles = () => {
    viewers = new Map();
    for (const { database, principal } of options.viewers ?? []) grantViewer(database, principal);
  };
  initialRoles();
  let delay: { ms: number; remaining: number } | undefined;

  function takeFault(endpoint: KustoEndpoint): Fault | undefined {
    const kind = endpoint === 'mgmt' ? 'mgmt' : 'query';
    const fault = faults.find((f) => f.endpoint === 'any' || f.endpoint === kind);
    if (!fault) return undefined;
    if (--fault.remaining <= 0) faults = faults.filter((f) => f !== fault);
    return fault;
  }

  function takeDelay(): number {
    if (!delay) return 0;
    const ms = delay.ms;
    if (--delay.remaining <= 0) delay = undefined;
    return ms;
  }

  /** Role-based access is on once any role is granted; before, the cluster is open to every valid token. */
  const rolesOn = () => [...viewers.values()].some((holders) => holders.size > 0);
  const holdsRole = (claims: TokenClaims, database: string) => {
    const names = principalNames(claims);
    const holds = (key: string) => [...(viewers.get(key) ?? [])].some((name) => names.has(name));
    return holds('*') || holds(database.toLowerCase());
  };
  /** Whether the principal holds any role on the cluster (else Kusto refuses it before looking at databases). */
  const hasAnyRole = (claims: TokenClaims) => {
    const names = principalNames(claims);
    return [...viewers.values()].some((holders) => [...holders].some((name) => names.has(name)));
  };

  function isDenied(claims: TokenClaims, database: string): boolean {
    if (rolesOn() && !holdsRole(claims, database)) return true;
    const identities = new Set([claims.oid, claims.sub, claims.appid, claims.azp, claims.upn, principalOf(claims)].filter(Boolean));
    return denials.some((d) =>
      (d.principal === undefined || identities.has(d.principal)) &&
      (d.database === undefined || d.database.toLowerCase() === database.toLowerCase()));
  }

  async function handle(req: Request, ctx: EmulatorContext): Promise<Response> {
    const url = new URL(req.url);
    const cluster = url.hostname.slice(0, -KUSTO_HOST_SUFFIX.length);
    const ids: RequestIds = {
      clientRequestId: req.headers.get('x-ms-client-request-id') ?? `KE.Emulator;${randomUUID()}`,
      activityId: randomUUID(),
      serviceAlias: cluster.toUpperCase(),
    };
    const path = url.pathname.replace(/\/+$/, '');
    if (path === '/v1/rest/auth/metadata') return authMetadata(req, ctx, ids);
    const endpoint: KustoEndpoint | undefined =
      path === '/v2/rest/query' ? 'v2-query' : path === '/v1/rest/query' ? 'v1-query' : path === '/v1/rest/mgmt' ? 'mgmt' : undefined;
    if (!endpoint) return reply(404, badRequestBody(`The Kusto emulator has no endpoint ${req.method} ${url.pathname}`, ids, 'NotFound'), ids);
    if (req.method !== 'POST') return reply(405, badRequestBody(`Use POST for ${url.pathname} (the emulator does not accept ${req.method})`, ids), ids);

    const audiences = [resourceId, `https://${url.hostname}`, ctx.origin(url.hostname)];
    const claims = await ctx.verifyBearer(req, audiences);
    if (!claims) {
      return reply(401, unauthorizedBody(`Unauthorized: a bearer token for audience ${audiences.join(' or ')} is required (missing, invalid or expired token).`, ids), ids,
        { 'www-authenticate': `Bearer authorization_uri="${options.loginEndpoint ?? ctx.origin('login.localhost')}", error="invalid_token"` });
    }
    let body: ParsedBody;
    try {
      body = parseBody(await req.text());
    } catch (error) {
      return reply(400, badRequestBody(`Request is invalid and cannot be processed: ${(error as Error).message}`, ids), ids);
    }
    if (body.clientRequestId && !req.headers.get('x-ms-client-request-id')) ids.clientRequestId = body.clientRequestId;
    const record: RecordedKustoRequest = {
      endpoint,
      cluster,
      database: body.database,
      csl: body.csl,
      options: body.options,
      parameters: body.parameters,
      clientRequestId: ids.clientRequestId,
      app: req.headers.get('x-ms-app') ?? undefined,
      user: req.headers.get('x-ms-user') ?? undefined,
      clientVersion: req.headers.get('x-ms-client-version') ?? undefined,
      readonlyHeader: req.headers.get('x-ms-readonly') ?? undefined,
      principal: principalOf(claims),
      identity: identityOf(claims),
      at: Date.now(),
      status: 0,
      outcome: 'running',
    };
    (endpoint === 'mgmt' ? commands : queries).push(record);
    const response = await route(req, endpoint, body, claims, ids, record);
    record.status = response.status;
    return response;
  }

  async function route(req: Request, endpoint: KustoEndpoint, body: ParsedBody, claims: TokenClaims, ids: RequestIds, record: RecordedKustoRequest): Promise<Response> {
    const fault = takeFault(endpoint);
    if (fault) {
      record.outcome = 'fault';
      return faultResponse(fault, ids, record);
    }
    // A principal with no role anywhere on the cluster is refused before any database is looked at.
    if (rolesOn() && !hasAnyRole(claims)) {
      record.outcome = 'refused';
      record.errorCode = 'Forbidden';
      const host = new URL(req.url).hostname;
      return reply(403, forbiddenBody(`Principal '${principalOf(claims)}' is not authorized to perform operation 'Access the Kusto service' on 'https://${host}:443/'.`, ids), ids);
    }
    if (body.database && isDenied(claims, body.database)) {
      record.outcome = 'refused';
      record.errorCode = 'Forbidden';
      return reply(403, forbiddenBody(`Principal '${principalOf(claims)}' is not authorized to read database '${body.database}'.`, ids), ids);
    }
    if (endpoint === 'mgmt') return management(body, claims, ids, record);
    return query(req, endpoint, body, claims, ids, record);
  }

  async function query(req: Request, endpoint: KustoEndpoint, body: ParsedBody, claims: TokenClaims, ids: RequestIds, record: RecordedKustoRequest): Promise<Response> {
    const fail = (status: number, error: OneApiError, outcome: RecordedKustoRequest['outcome'] = 'error') => {
      record.outcome = outcome;
      record.errorCode = error.error.innererror?.code ?? error.error.code;
      return reply(status, error, ids);
    };
    if (isCommandText(body.csl)) {
      if (endpoint === 'v2-query') {
        record.outcome = 'error';
        record.errorCode = 'General_BadRequest';
        return text(400, commandOnQueryEndpointText(ids), ids, { 'content-type': 'text/plain; charset=utf-8' });
      }
      return fail(400, badRequestBody(`Request is invalid and cannot be processed: management commands (text starting with '.') must be sent to /v1/rest/mgmt, not /v1/rest/query.`, ids, 'MisroutedCommand'));
    }
    const opts = body.options;
    if (truthy(opts.results_progressive_enabled)) {
      return fail(400, badRequestBody('The Kusto emulator does not support progressive results (results_progressive_enabled).', ids, 'EmulatorUnsupported'));
    }
    if (!body.database) return fail(400, badRequestBody('Request is invalid and cannot be processed: the request has no database ("db").', ids));
    if (!catalog.database(body.database)) return fail(400, databaseNotFoundBody(body.database, ids));
    // The service parses first: a syntax error is reported where Kusto's own parser finds it, in the service's words.
    const [syntax] = officialSyntaxErrors(body.csl);
    if (syntax) return fail(400, queryErrorBody(syntaxError(body.csl, syntax.start, syntax.message), ids, body.database, body.csl));
    const timeout = serverTimeout(opts);
    if (typeof timeout === 'string') return fail(400, badRequestBody(timeout, ids, 'InvalidRequestProperty'));
    const queryNow = opts.query_now === undefined ? now : parseQueryNow(opts.query_now);
    if (queryNow === undefined) return fail(400, badRequestBody(`Request is invalid and cannot be processed: property 'query_now' has an invalid value '${String(opts.query_now)}'.`, ids, 'InvalidRequestProperty'));

    const started = performance.now();
    const waited = await waitForDelay(req, ids.clientRequestId, timeout);
    if (waited.kind === 'cancelled') {
      record.outcome = 'cancelled';
      record.errorCode = 'QueryCancelled';
      const bodyText = buildV2Body({ ids, results: [], partialFailure: cancelledError(waited.reason, ids), cancelled: true, placement: 'in_data',
        stats: { executionMs: performance.now() - started, rowsTotal: 0, rowsScanned: 0, peakMemory: 0 } });
      return text(200, bodyText, ids);
    }
    if (waited.kind === 'timeout') return fail(504, timeoutBody(formatTimespan(timeout), ids), 'timeout');

    let outcome: QueryOutcome;
    try {
      outcome = runQuery({
        text: body.csl,
        now: queryNow,
        parameters: body.parameters,
        catalog: catalog.forDatabase(body.database, (db) => {
          if (isDenied(claims, db)) throw new KqlError('request', 'Forbidden', `Principal '${principalOf(claims)}' is not authorized to read database '${db}'.`);
        }),
      });
    } catch (error) {
      if (!(error instanceof KqlError)) throw error;
      if (error.code === 'Forbidden') return fail(403, forbiddenBody(error.message, ids), 'refused');
      // Kusto's parser accepted the text, so a parse failure here is a gap in the emulator, not the query's fault.
      const shown = error.kind === 'syntax' ? unsupported(`this syntax (the emulator's parser stopped at offset ${error.offset ?? '?'})`, error.offset) : error;
      return fail(400, queryErrorBody(shown, ids, body.database, body.csl));
    }
    return queryResponse(endpoint, outcome, { ...opts, ...allowedSetOptions(outcome.setOptions) }, ids, record, started);
  }

  function queryResponse(endpoint: KustoEndpoint, outcome: QueryOutcome, opts: Record<string, unknown>, ids: RequestIds, record: RecordedKustoRequest, started: number): Response {
    const takeMax = positiveNumber(opts.query_take_max_records);
    const silentTake = options.takeMaxRecordsMode === 'silent' && takeMax !== undefined;
    const tables = silentTake ? outcome.tables.map((t) => ({ ...t, rows: t.rows.slice(0, takeMax) })) : outcome.tables;
    const limits = effectiveLimits(opts, defaults, silentTake);
    const { tables: results, truncation } = serializeResults(tables, limits);
    record.rowCount = results.reduce((n, r) => n + r.rowsJson.length, 0);
    record.outcome = truncation ? 'truncated' : 'ok';
    if (truncation) record.errorCode = 'LimitsExceeded';
    const stats = {
      executionMs: performance.now() - started,
      rowsTotal: outcome.stats.rowsTotal,
      rowsScanned: outcome.stats.rowsScanned,
      peakMemory: 1_048_576 + record.rowCount * 256,
    };
    if (endpoint === 'v1-query') {
      const failure = truncation ? truncationError(truncation.kind, truncation.limit, ids) : undefined;
      return text(200, buildV1QueryBody(ids, results, failure), ids);
    }
    const placement = errorPlacement(opts.results_error_reporting_placement);
    const deferPartialFailures = truthy(opts.deferpartialqueryfailures);
    return text(200, buildV2Body({ ids, results, truncation, placement, deferPartialFailures, visualization: outcome.visualization, stats }), ids);
  }

  async function management(body: ParsedBody, claims: TokenClaims, ids: RequestIds, record: RecordedKustoRequest): Promise<Response> {
    const fail = (status: number, error: OneApiError, outcome: RecordedKustoRequest['outcome'] = 'error') => {
      record.outcome = outcome;
      record.errorCode = error.error.innererror?.code ?? error.error.code;
      return reply(status, error, ids);
    };
    if (!isCommandText(body.csl)) {
      return fail(400, badRequestBody('Request is invalid and cannot be processed: /v1/rest/mgmt expects a management command (text starting with \'.\'); send queries to /v2/rest/query.', ids, 'MisroutedQuery'));
    }
    // The request's database is resolved before the command runs, as for queries.
    if (body.database && !catalog.database(body.database)) return fail(400, databaseNotFoundBody(body.database, ids));
    const readOnly = truthy(body.options.request_readonly) || truthy(record.readonlyHeader);
    const ctx: CommandContext = {
      catalog,
      database: body.database,
      clusterName: record.cluster,
      now,
      canSee: (db) => !isDenied(claims, db),
      requireAccess: (db) => {
        if (isDenied(claims, db)) throw new KqlError('request', 'Forbidden', `Principal '${principalOf(claims)}' is not authorized to read database '${db}'.`);
      },
      // Without admin roles (which the emulator does not model), a principal sees only its own queries.
      recentQueries: () => queries.filter((q) => !rolesOn() || q.principal === principalOf(claims)).map((q): Row => [q.clientRequestId, q.csl, q.database, q.at, q.outcome === 'running' ? 'InProgress' : q.status === 200 ? 'Completed' : 'Failed', q.user ?? '', q.app ?? '', q.errorCode ?? '']),
    };
    const outcome = runCommand(body.csl, ctx);
    switch (outcome.kind) {
      case 'write':
        if (readOnly) {
          return fail(403, readOnlyBody(outcome.verb, ids), 'refused');
        }
        return fail(400, badRequestBody(`The Kusto emulator does not execute write commands ('${outcome.verb}'); the attempt was recorded (supported subset: see emulator/kusto/README.md).`, ids, 'EmulatorUnsupported'), 'refused');
      case 'cancel': {
        const target = running.get(outcome.clientRequestId);
        target?.cancel(outcome.reason);
        cancellations.push({ clientRequestId: outcome.clientRequestId, reason: outcome.reason, at: Date.now(), wasRunning: Boolean(target), principal: principalOf(claims) });
        record.outcome = 'ok';
        const reason = target ? outcome.reason : `Query '${outcome.clientRequestId}' is not running.`;
        return text(200, v1Body([v1Table('Table_0', {
          columns: [{ name: 'ClientRequestId', type: 'string' }, { name: 'ReasonPhrase', type: 'string' }, { name: 'RunningQueryCanceled', type: 'bool' }],
          rows: [[outcome.clientRequestId, reason, Boolean(target)]],
        })]), ids);
      }
      case 'error':
        if (outcome.error.code === 'Forbidden') return fail(403, forbiddenBody(outcome.error.message, ids), 'refused');
        return fail(400, outcome.error.kind === 'request' ? badRequestBody(outcome.error.message, ids) : queryErrorBody(outcome.error, ids, body.database, body.csl));
      case 'table':
        record.outcome = 'ok';
        record.rowCount = outcome.relation.rows.length;
        return text(200, v1Body([v1Table('Table_0', outcome.relation)]), ids);
    }
  }

  /** Waits out an injected delay, bounded by the query's servertimeout; `.cancel query` or a client abort ends it early. */
  async function waitForDelay(req: Request, clientRequestId: string, timeoutMs: number): Promise<{ kind: 'done' } | { kind: 'timeout' } | { kind: 'cancelled'; reason: string }> {
    const ms = takeDelay();
    if (ms <= 0) return { kind: 'done' };
    return new Promise((resolve) => {
      const finish = (result: { kind: 'done' } | { kind: 'timeout' } | { kind: 'cancelled'; reason: string }) => {
        clearTimeout(timer);
        running.delete(clientRequestId);
        req.signal.removeEventListener('abort', onAbort);
        resolve(result);
      };
      const timer = setTimeout(() => finish(ms > timeoutMs ? { kind: 'timeout' } : { kind: 'done' }), Math.min(ms, timeoutMs));
      // A hang (infinite delay) waits for a cancel and must not keep a finished test process alive;
      // a finite delay is a real wait that callers await.
      if (ms === Number.POSITIVE_INFINITY) timer.unref();
      const onAbort = () => finish({ kind: 'cancelled', reason: 'the client closed the connection' });
      req.signal.addEventListener('abort', onAbort);
      running.set(clientRequestId, { clientRequestId, cancel: (reason) => finish({ kind: 'cancelled', reason }) });
    });
  }

  function faultResponse(fault: Fault, ids: RequestIds, record: RecordedKustoRequest): Response {
    switch (fault.kind) {
      case 'throttle':
        record.errorCode = 'TooManyRequests';
        return reply(429, throttledBody(ids), ids, { 'retry-after': String(fault.retryAfterSeconds) });
      case 'unauthorized':
        record.errorCode = 'Unauthorized';
        return reply(401, unauthorizedBody('Unauthorized (injected fault): the token was rejected.', ids), ids, { 'www-authenticate': 'Bearer error="invalid_token"' });
      case 'forbidden':
        record.errorCode = 'Forbidden';
        return reply(403, forbiddenBody(`Principal '${record.principal ?? 'unknown'}' is not authorized to read database '${record.database}'.`, ids), ids);
      case 'timeout':
        record.errorCode = 'RequestTimeout';
        return reply(504, timeoutBody(formatTimespan(serverTimeoutOr(record.options)), ids), ids);
      case 'internal':
        record.errorCode = 'InternalServiceError';
        return reply(500, internalErrorBody(ids), ids);
    }
  }

  function authMetadata(req: Request, ctx: EmulatorContext, ids: RequestIds): Response {
    if (req.method !== 'GET') return reply(405, badRequestBody('Use GET for /v1/rest/auth/metadata', ids), ids);
    return json(200, {
      AzureAD: {
        LoginEndpoint: options.loginEndpoint ?? ctx.origin('login.localhost'),
        LoginMfaRequired: false,
        KustoClientAppId: 'db662dc1-0cfe-4e1c-a843-19a68e65be58',
        KustoClientRedirectUri: 'https://microsoft/kustoclient',
        KustoServiceResourceId: resourceId,
        FirstPartyAuthorityUrl: `${options.loginEndpoint ?? ctx.origin('login.localhost')}/f8cdef31-a31e-4b4a-93e4-5f571e91255a`,
      },
      dSTS: {},
    }, ids);
  }

  return {
    name: 'kusto',
    hostPattern: `<cluster>${KUSTO_HOST_SUFFIX}`,
    matches: (hostname) => hostname.endsWith(KUSTO_HOST_SUFFIX) && hostname.length > KUSTO_HOST_SUFFIX.length && !hostname.slice(0, -KUSTO_HOST_SUFFIX.length).includes('.'),
    handle,
    catalog,
    queries,
    commands,
    cancellations,
    resourceId,
    now,
    addTable: (database, table) => void catalog.addTable(database, table),
    addColumn: (database, table, column, fill) => catalog.addColumn(database, table, column, fill),
    schemaVersion: (database) => {
      const db = catalog.database(database);
      if (!db) throw new Error(`Database '${database}' not found`);
      return db.versionText;
    },
    setQueryDelay: (ms, times) => {
      delay = ms > 0 ? { ms, remaining: times ?? Number.POSITIVE_INFINITY } : undefined;
    },
    failNext: (kind, fault = {}) => {
      faults.push({ kind, remaining: fault.count ?? 1, retryAfterSeconds: fault.retryAfterSeconds ?? 1, endpoint: fault.endpoint ?? 'any' });
    },
    denyAccess: (rule) => void denials.push(rule),
    clearDenials: () => {
      denials = [];
    },
    grantViewer,
    revokeViewer: (database, principal) => void viewers.get(database === '*' ? '*' : database.toLowerCase())?.delete(principal.toLowerCase()),
    clearRoles: () => {
      viewers = new Map();
    },
    runningQueries: () => [...running.keys()],
    reset: () => {
      queries.length = 0;
      commands.length = 0;
      cancellations.length = 0;
      faults = [];
      denials = [];
      initialRoles();
      delay = undefined;
      for (const q of [...running.values()]) q.cancel('emulator reset');
    },
  };
}

/** App-only tokens (managed identity, client credentials) carry idtyp=app and no delegated scopes. */
function isAppToken(claims: TokenClaims): boolean {
  return claims.idtyp === 'app' || (!claims.scp && !claims.upn && claims.roles !== undefined);
}

/** How Kusto names the caller in messages: `aadapp=<appid>;<tenant>` or `aaduser=<oid>;<tenant>`. */
export function principalOf(claims: TokenClaims): string {
  return isAppToken(claims) ? `aadapp=${claims.appid ?? claims.azp ?? claims.oid};${claims.tid}` : `aaduser=${claims.oid};${claims.tid}`;
}

/**
 * The names a role can be granted to that match this caller, lower case. A user's token (delegated,
 * on-behalf-of included) is the user: its `appid` names the app it was issued to, not the principal.
 */
function principalNames(claims: TokenClaims): Set<string> {
  const names = isAppToken(claims)
    ? [claims.appid, claims.azp, claims.oid, principalOf(claims), `aadapp=${claims.appid ?? claims.azp ?? claims.oid}`]
    : [claims.oid, claims.upn, principalOf(claims), `aaduser=${claims.oid}`, claims.upn && `aaduser=${claims.upn}`];
  return new Set(names.filter((name): name is string => typeof name === 'string' && name !== '').map((name) => name.toLowerCase()));
}

/** The claims of the caller's token that authorization looks at, for the record. */
function identityOf(claims: TokenClaims): KustoCallerIdentity {
  const appid = claims.appid ?? claims.azp;
  return {
    oid: claims.oid,
    tid: claims.tid,
    idtyp: typeof claims.idtyp === 'string' ? claims.idtyp : isAppToken(claims) ? 'app' : 'user',
    ...(appid && { appid }),
    ...(claims.scp && { scp: claims.scp }),
    ...(claims.upn && { upn: claims.upn }),
    aud: claims.aud,
  };
}

// ---- responses -----------------------------------------------------------------

function headers(ids: RequestIds, extra: Record<string, string> = {}): Record<string, string> {
  return { 'content-type': 'application/json; charset=utf-8', 'x-ms-client-request-id': ids.clientRequestId, 'x-ms-activity-id': ids.activityId, ...extra };
}

function text(status: number, body: string, ids: RequestIds, extra?: Record<string, string>): Response {
  return new Response(body, { status, headers: headers(ids, extra) });
}

function json(status: number, body: unknown, ids: RequestIds): Response {
  return text(status, JSON.stringify(body), ids);
}

function reply(status: number, error: OneApiError, ids: RequestIds, extra?: Record<string, string>): Response {
  return text(status, JSON.stringify(error), ids, extra);
}
