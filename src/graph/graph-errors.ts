import { ClaimsChallengeError, onBehalfOfErrorIn, type OnBehalfOfError } from '../azure/on-behalf-of.ts';
import type { DownstreamIdentityMode } from '../azure/downstream-identity.ts';
import { CallAbortedError } from '../core/abort.ts';
import { CircuitOpenError } from './circuit-breaker.ts';
import { CursorRefusedError } from './cursor.ts';
import { GraphHostRefusedError, GraphTimeoutError, GraphUnreachableError } from './middleware.ts';
import { retryAfterSeconds } from './retry-policy.ts';

/**
 * Turns any failure of a Graph call into what a tool result needs: a class,
 * Graph's own code and message, the request id to quote, and one concrete
 * next step (the permission to consent, the approval a protected Teams API
 * needs, how long to wait). The result is shaped like `toolError`'s input:
 *
 * @example
 * catch (error) { return toolError(graphFailure(error, { target: '/teams/{teamId}/channels', identity: identity.mode, permissions })); }
 *
 * The class is decided by the HTTP status and Graph's `code` (nested
 * `innerError` codes included); the message only adds detail where Graph
 * puts it nowhere else (the permissions it names, the protected-API and
 * `/me` refusals, which come as a plain 403/400). Texts are cut and scrubbed
 * of anything token-like: nothing here ever carries a token.
 */

export interface GraphErrorContext {
  /** The resource template, e.g. `/teams/{teamId}/channels/{channelId}/messages` (never a URL with personal data). */
  target: string;
  /** Who Graph saw: the app's managed identity (app-only) or the caller (delegated, on-behalf-of). */
  identity: DownstreamIdentityMode;
  /** The HTTP method of the failed request (default GET): a failed POST or PATCH may still have run. */
  method?: string;
  /** What the operation needs, named when Graph's message does not (from the tool's docs). */
  permissions?: { delegated: readonly string[]; application: readonly string[] };
  /** The tool that lists valid ids, for a 404 ("call graph_team_channels_list"). */
  findWith?: string;
}

export interface GraphFailure {
  errorClass: string;
  message: string;
  nextStep: string;
  target: string;
  /** Graph's `request-id` (or, failing that, our `client-request-id`): what Microsoft support asks for. */
  upstreamRequestId?: string;
  status?: number;
  code?: string;
  clientRequestId?: string;
  /** When Graph says it failed (`innerError.date`). */
  date?: string;
  retryAfterSeconds?: number;
  /** Permissions Graph's message named as required. */
  missingPermissions?: string[];
  /** A write that failed this way may still have been carried out. */
  mayHaveRun?: boolean;
  downstreamIdentity: DownstreamIdentityMode;
}

/** An operation Graph offers only to a signed-in user, asked for while Graph is called app-only. Nothing was sent. */
export class DelegatedOnlyError extends Error {
  constructor(readonly operation: string) {
    super(`${operation} works only for a signed-in user (delegated access); this server calls Microsoft Graph as its own identity (app-only), where Graph does not offer it.`);
    this.name = 'DelegatedOnlyError';
  }
}

/** Refuses, before sending, an operation Graph allows only delegated (channel message send, `/search/query`, `/me`). */
export function requireDelegated(identity: DownstreamIdentityMode, operation: string): void {
  if (identity !== 'onBehalfOf') throw new DelegatedOnlyError(operation);
}

interface GraphErrorLike {
  statusCode: number;
  code?: string | null;
  message?: string;
  requestId?: string | null;
  body?: unknown;
  headers?: Headers;
}

interface ErrorBody {
  code?: string;
  message?: string;
  innerError?: ErrorBody & { 'request-id'?: string; 'client-request-id'?: string; date?: string };
  innererror?: ErrorBody & { 'request-id'?: string; 'client-request-id'?: string; date?: string };
}

/** The first error in `error`'s cause chain that `match` accepts. */
function findIn<T>(error: unknown, match: (candidate: unknown) => candidate is T): T | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== null && typeof current === 'object'; depth++) {
    if (match(current)) return current;
    current = (current as { cause?: unknown; inner?: unknown }).cause ?? (current as { inner?: unknown }).inner;
  }
  return undefined;
}

const instance =
  <T>(type: abstract new (...args: never[]) => T) =>
  (candidate: unknown): candidate is T =>
    candidate instanceof type;

const IDENTITY_ERRORS = new Set(['CredentialUnavailableError', 'AuthenticationError', 'AggregateAuthenticationError', 'AuthenticationRequiredError', 'SecretUnavailableError']);
const isIdentityError = (candidate: unknown): candidate is Error => candidate instanceof Error && IDENTITY_ERRORS.has(candidate.name);
const isGraphError = (candidate: unknown): candidate is GraphErrorLike => typeof (candidate as GraphErrorLike).statusCode === 'number' && (candidate as GraphErrorLike).statusCode > 0;

/** Scrubs anything token-like, flattens whitespace and control characters, caps the length. */
export function safeText(text: string, max = 600): string {
  const scrubbed = text
    .replace(/\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*/g, '[token]')
    .replace(/\b(Bearer|Basic)\s+[\w\-.~+/=]+/gi, '$1 [token]')
    .replace(/([?&](?:access_token|code|client_secret|sig|token)=)[^&\s]+/gi, '$1[redacted]')
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return scrubbed.length > max ? `${scrubbed.slice(0, max)}…` : scrubbed;
}

function parseBody(body: unknown): ErrorBody | undefined {
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as ErrorBody & { error?: ErrorBody };
      return parsed.error ?? parsed;
    } catch {
      return undefined;
    }
  }
  return body && typeof body === 'object' ? ((body as { error?: ErrorBody }).error ?? (body as ErrorBody)) : undefined;
}

/** Every code from the outer error inwards (`innerError` nests, spelled either way). */
function codesOf(outer: ErrorBody | undefined): string[] {
  const codes: string[] = [];
  for (let current = outer, depth = 0; current && depth < 8; current = current.innerError ?? current.innererror, depth++) {
    if (typeof current.code === 'string' && current.code) codes.push(current.code);
  }
  return codes;
}

/** "API requires one of 'ChannelMessage.Read.All, ChannelMessage.Read.Group'" and similar. */
export function permissionsNamedIn(message: string): string[] {
  const listed = /requires one of ['"]([^'"]+)['"]/i.exec(message)?.[1] ?? /required (?:scopes|roles|permissions)\s*[:=]\s*\[?([A-Za-z.,\s]+)\]?/i.exec(message)?.[1];
  if (!listed) return [];
  return [...new Set(listed.split(/[,\s]+/).filter((name) => /^[A-Z][A-Za-z]+(\.[A-Za-z]+)+$/.test(name)))];
}

const PROTECTED_API = /protected api|teams-protected-apis|resource specific consent/i;
const ME_APP_ONLY = /\/me request is only valid with delegated/i;
const DELEGATED_ONLY = /(?:only|not) (?:valid|supported|allowed).{0,40}(?:application|app-only|delegated)|application permissions? (?:is|are) not supported|requires? a user|delegated (?:authentication|permission)s? (?:is|are) required/i;

interface Parsed {
  status: number;
  code: string;
  codes: string[];
  message: string;
  requestId: string | undefined;
  clientRequestId: string | undefined;
  date: string | undefined;
  retryAfterSeconds: number | undefined;
  claims: string | undefined;
}

function parseGraphError(error: GraphErrorLike): Parsed {
  const body = parseBody(error.body);
  const inner = body?.innerError ?? body?.innererror;
  const codes = codesOf(body);
  const headers = error.headers;
  return {
    status: error.statusCode,
    code: error.code ?? codes[0] ?? '',
    codes: codes.length ? codes : error.code ? [error.code] : [],
    message: safeText(body?.message ?? error.message ?? ''),
    requestId: inner?.['request-id'] ?? error.requestId ?? headers?.get('request-id') ?? undefined,
    clientRequestId: inner?.['client-request-id'] ?? headers?.get('client-request-id') ?? undefined,
    date: inner?.date,
    retryAfterSeconds: retryAfterSeconds(headers?.get('retry-after')),
    claims: claimsOf(headers?.get('www-authenticate')),
  };
}

/** The claims a Continuous Access Evaluation / Conditional Access 401 asks for, decoded. */
function claimsOf(challenge: string | null | undefined): string | undefined {
  if (!challenge || !/insufficient_claims/i.test(challenge)) return undefined;
  const encoded = /claims="([^"]+)"/i.exec(challenge)?.[1];
  if (!encoded) return undefined;
  try {
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    return decoded.trim().startsWith('{') ? decoded : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The failure, described. A claims challenge (Conditional Access wanting
 * more of the signed-in user) is not described but thrown as
 * ClaimsChallengeError, as the on-behalf-of exchange throws it: the HTTP
 * layer answers 401 with the claims so the client can sign in again.
 */
export function graphFailure(error: unknown, context: GraphErrorContext): GraphFailure {
  const base = { target: context.target, downstreamIdentity: context.identity };
  const method = (context.method ?? 'GET').toUpperCase();
  const isWrite = method !== 'GET' && method !== 'HEAD';
  const fail = (errorClass: string, message: string, nextStep: string, extra: Partial<GraphFailure> = {}): GraphFailure => ({ ...base, errorClass, message, nextStep, ...extra });

  const onBehalfOf = onBehalfOfErrorIn(error);
  if (onBehalfOf) return onBehalfOfFailure(onBehalfOf, fail);
  const delegatedOnly = findIn(error, instance(DelegatedOnlyError));
  if (delegatedOnly) return fail('delegated_only', `${delegatedOnly.message} Nothing was sent.`, DELEGATED_SETUP);
  const cursor = findIn(error, instance(CursorRefusedError));
  if (cursor) return fail('invalid_cursor', cursor.message, 'Call the tool again without a cursor to start from the first page.');
  const aborted = findIn(error, instance(CallAbortedError));
  if (aborted) return fail(aborted.kind, `${aborted.message}; the Graph request was stopped.`, 'Call again if the result is still needed.');
  const open = findIn(error, instance(CircuitOpenError));
  if (open) return fail('circuit_open', open.message, `Wait ${open.retryAfterSeconds} seconds, then call the tool again.`, { retryAfterSeconds: open.retryAfterSeconds });
  const timeout = findIn(error, instance(GraphTimeoutError));
  if (timeout) {
    return timeout.mayHaveRun
      ? fail('timeout', `${timeout.message} The request may still have been carried out.`, WRITE_MAY_HAVE_RUN, { mayHaveRun: true })
      : fail('timeout', timeout.message, 'Retry; if it keeps timing out, ask for fewer items (a smaller limit).');
  }
  const unreachable = findIn(error, instance(GraphUnreachableError));
  if (unreachable) return fail('unreachable', unreachable.message, 'Retry in a minute; if it persists, an operator checks that the server can reach Microsoft Graph.');
  const refusedHost = findIn(error, instance(GraphHostRefusedError));
  if (refusedHost) return fail('refused_host', refusedHost.message, 'This is a server problem, not one of the arguments; report it to the operators.');
  const identity = findIn(error, isIdentityError);
  if (identity) {
    return fail(
      'credential_unavailable',
      `The server could not get a token for Microsoft Graph (${identity.name}), so nothing was sent: ${safeText(identity.message, 300)}`,
      "Retry in a minute; if it keeps failing, an operator checks the server's managed identity (and Key Vault access).",
    );
  }
  const graph = findIn(error, isGraphError);
  if (!graph) {
    return fail('upstream_error', `Graph call failed: ${safeText((error as Error | undefined)?.message ?? String(error))}`, 'Retry once; if it fails again, report the time of the call to the operators.');
  }
  return graphAnswerFailure(parseGraphError(graph), context, isWrite, fail);
}

const DELEGATED_SETUP =
  'An operator sets GRAPH_IDENTITY=onBehalfOf, so the Graph tools act for the signed-in user through on-behalf-of (needs MCP_AUTH_MODE=entra and admin consent for the delegated Graph permissions), or use a tool that works app-only.';
const WRITE_MAY_HAVE_RUN = 'Do not simply send it again: first check whether it was carried out (list the recent messages or items), then send only if it is missing.';

type Fail = (errorClass: string, message: string, nextStep: string, extra?: Partial<GraphFailure>) => GraphFailure;

function onBehalfOfFailure(error: OnBehalfOfError, fail: Fail): GraphFailure {
  if (error instanceof ClaimsChallengeError) throw error;
  const errorClass = error.code === 'no_user' ? 'unauthenticated' : error.code === 'client_authentication_failed' ? 'credential_unavailable' : error.code;
  return fail(errorClass, `${error.message} Nothing was sent to Microsoft Graph.`, error.nextStep);
}

function graphAnswerFailure(parsed: Parsed, context: GraphErrorContext, isWrite: boolean, fail: Fail): GraphFailure {
  const ids = {
    status: parsed.status,
    ...(parsed.code && { code: parsed.code }),
    ...((parsed.requestId ?? parsed.clientRequestId) && { upstreamRequestId: parsed.requestId ?? parsed.clientRequestId }),
    ...(parsed.clientRequestId && { clientRequestId: parsed.clientRequestId }),
    ...(parsed.date && { date: parsed.date }),
  };
  const said = `Microsoft Graph answered ${parsed.status}${parsed.code ? ` ${parsed.code}` : ''}${parsed.message ? `: ${parsed.message}` : ''}`;
  const appOnly = context.identity === 'managedIdentity';
  const named = permissionsNamedIn(parsed.message);
  const needed = named.length ? named : [...((appOnly ? context.permissions?.application : context.permissions?.delegated) ?? [])];
  const permissionText = needed.length ? needed.join(' or ') : 'the Graph permission this operation needs';

  if (parsed.claims && !appOnly) throw new ClaimsChallengeError(parsed.claims);
  if (parsed.status === 429 || parsed.codes.some((code) => /^(activityLimitReached|throttledRequest|TooManyRequests)$/i.test(code))) {
    const wait = parsed.retryAfterSeconds;
    return fail(
      'throttled',
      `${said}${wait !== undefined ? ` (retry after ${wait} s)` : ''}`,
      `Wait ${wait ?? 30} seconds before calling again; ask for fewer items or fewer users per call, and avoid many calls in parallel.`,
      { ...ids, ...(wait !== undefined && { retryAfterSeconds: wait }) },
    );
  }
  if (parsed.status === 400 && (ME_APP_ONLY.test(parsed.message) || (appOnly && context.target.startsWith('/me')))) {
    return fail('delegated_only', `${said} (Graph's /me means the signed-in user, and this server calls Graph as its own identity.)`, DELEGATED_SETUP, ids);
  }
  if (appOnly && (parsed.status === 400 || parsed.status === 403) && DELEGATED_ONLY.test(parsed.message)) {
    return fail('delegated_only', said, DELEGATED_SETUP, ids);
  }
  if (parsed.status === 401) {
    return context.identity === 'onBehalfOf'
      ? fail('unauthenticated', said, 'Sign in again in your MCP client and retry; if it persists, an operator checks the app registration and consent.', ids)
      : fail('unauthenticated', said, "The server's managed identity was not accepted by Graph; an operator checks the GRAPH_ENDPOINT and the identity's tenant.", ids);
  }
  if (parsed.status === 403) {
    if (PROTECTED_API.test(parsed.message)) {
      return fail(
        'protected_api',
        `${said} Reading Teams messages as an application is a protected API: Microsoft must approve the app for it first.`,
        'An admin requests protected API access for the app (https://aka.ms/teamsgraph/requestaccess) and grants the application permission; or installs the app in the team with resource-specific consent (ChannelMessage.Read.Group); or an operator switches the Graph tools to act for the signed-in user (on-behalf-of), where no approval is needed.',
        { ...ids, ...(named.length && { missingPermissions: named }) },
      );
    }
    return appOnly
      ? fail(
          'permission_denied',
          said,
          `An admin grants the server's managed identity the application permission ${permissionText} on Microsoft Graph (an app role assignment on the Microsoft Graph service principal, e.g. with New-MgServicePrincipalAppRoleAssignment), then retries after a few minutes.`,
          { ...ids, ...(needed.length && { missingPermissions: needed }) },
        )
      : fail(
          'permission_denied',
          said,
          `Either you cannot access this item (for a team or chat: you must be a member), or the server's app registration lacks admin consent for the delegated permission ${permissionText}; an admin grants it under App registrations > API permissions > Microsoft Graph.`,
          { ...ids, ...(needed.length && { missingPermissions: needed }) },
        );
  }
  if (parsed.status === 404 || parsed.codes.includes('itemNotFound') || parsed.codes.includes('Request_ResourceNotFound')) {
    return fail('not_found', said, `Check the ids${context.findWith ? `: call ${context.findWith} for valid ones` : ''}. Graph also answers 404 for items you may not see.`, ids);
  }
  if (parsed.codes.includes('Request_UnsupportedQuery')) {
    return fail('unsupported_query', said, 'Simplify the query (fewer filter conditions, no sorting), or search instead of filtering.', ids);
  }
  if (parsed.status === 409 || parsed.status === 412) {
    return fail('conflict', said, 'The item changed or already exists; read it again, then retry with the current state.', ids);
  }
  if (parsed.status >= 500) {
    const mayHaveRun = isWrite && parsed.status !== 501;
    return mayHaveRun
      ? fail('upstream_error', `${said} The request may still have been carried out.`, WRITE_MAY_HAVE_RUN, { ...ids, mayHaveRun: true })
      : fail('upstream_error', said, 'Graph is failing at the moment (retries were already made); retry in a minute and quote the request id if it persists.', ids);
  }
  return fail('bad_request', said, 'Correct the arguments as the message says and call again.', ids);
}
