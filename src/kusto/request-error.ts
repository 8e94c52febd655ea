import type { AbortKind } from '../core/abort.ts';
import type { Refusal } from './read-only-check.ts';

/**
 * What can go wrong talking to Kusto, as values errors.ts can classify:
 * a failure the service answered (HTTP status plus its OneApi error, or a
 * plain-text body), a network failure, a query stopped by us (deadline or
 * caller gone), or user text refused before sending.
 */

export interface KustoErrorDetails {
  /** `@type` of the (innermost) error, e.g. `Kusto.Data.Exceptions.SyntaxException`. */
  type?: string;
  /** Where a syntax error is: `@token`, `@line`, `@pos` of the inner error. */
  token?: string;
  line?: number;
  position?: number;
  activityId?: string;
  retryAfterSeconds?: number;
  permanent?: boolean;
  /** Who the request was sent as (the gateway sets it): the next step differs for the app's identity and a user's. */
  identity?: 'managedIdentity' | 'onBehalfOf';
}

/** A failure answered by the service (HTTP status and OneApi error) or the network (no status). */
export class KustoRequestError extends Error {
  constructor(
    readonly status: number | undefined,
    /** The most specific Kusto code: the inner error's (`SEM0100`, `SYN0002`) or the outer one (`TooManyRequests`). */
    readonly code: string,
    message: string,
    readonly clientRequestId: string,
    readonly details: KustoErrorDetails = {},
  ) {
    super(message);
    this.name = 'KustoRequestError';
  }
}

export class KustoCancelledError extends Error {
  constructor(
    readonly clientRequestId: string,
    /** `timeout`: our own deadline passed; `client_disconnected`: the client went away; `cancelled`: the client cancelled the call. */
    readonly reason: 'timeout' | AbortKind,
  ) {
    super(
      reason === 'timeout'
        ? 'The query ran out of time and was cancelled.'
        : reason === 'client_disconnected'
          ? 'The query was cancelled because the client disconnected.'
          : 'The query was cancelled by the client.',
    );
    this.name = 'KustoCancelledError';
  }
}

/**
 * The server's own credential (its managed identity) could not get a token:
 * nothing was sent to the cluster, and nothing about the query or the cluster
 * is wrong. `identityError` is the name of the @azure/identity error.
 */
export class KustoCredentialError extends Error {
  constructor(
    message: string,
    readonly clientRequestId: string,
    readonly identityError: string,
  ) {
    super(message);
    this.name = 'KustoCredentialError';
  }
}

/**
 * Errors of @azure/identity that mean "no token": matched by name, since the
 * error may come from another copy of the module (bundled chunks, the Kusto
 * SDK's own dependency).
 */
const IDENTITY_ERRORS = new Set(['CredentialUnavailableError', 'AuthenticationError', 'AggregateAuthenticationError', 'AuthenticationRequiredError']);

/** The @azure/identity error in `error` or what it wraps (`inner`, `cause`, an aggregate's `errors`), if any. */
export function identityErrorIn(error: unknown): Error | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== null && typeof current === 'object'; depth++) {
    const candidate = current as { name?: unknown; inner?: unknown; cause?: unknown };
    if (typeof candidate.name === 'string' && IDENTITY_ERRORS.has(candidate.name)) return current as Error;
    current = candidate.inner ?? candidate.cause;
  }
  return undefined;
}

/** User text the read-only check refused; nothing was sent. */
export class KustoQueryRefusedError extends Error {
  constructor(readonly refusal: Refusal) {
    super(refusal.reason);
    this.name = 'KustoQueryRefusedError';
  }
}

interface AxiosLikeError {
  code?: string;
  message: string;
  response?: { status: number; data: unknown; headers?: Record<string, unknown> };
  inner?: AxiosLikeError;
}

type Json = Record<string, unknown>;

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const integer = (value: unknown): number | undefined => {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isInteger(n) ? n : undefined;
};

/** `{"error": {…}}`, or undefined when the body is not a OneApi error (a proxy page, plain text). */
function oneApiError(data: unknown): Json | undefined {
  let body = data;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  const error = (body as Json | null)?.error;
  return typeof error === 'object' && error !== null ? (error as Json) : undefined;
}

/**
 * A plain-text error body (the service sends some, e.g. "Bad request:
 * Control commands … do not support api_version=v2\nError details:\n
 * ClientRequestId='…', ActivityId='…', …"): the message is the text before
 * the details, which still carry the activity id.
 */
function plainTextError(status: number, body: string, clientRequestId: string, retryAfterSeconds: number | undefined): KustoRequestError {
  const [head = '', details = ''] = body.split(/\r?\nError details:\r?\n/);
  const message = head.trim().slice(0, 2000) || `HTTP ${status}`;
  const code = /^([A-Za-z][A-Za-z0-9_]*): /.exec(message)?.[1] ?? `HTTP${status}`;
  const activityId = /ActivityId='([^']*)'/.exec(details)?.[1];
  return new KustoRequestError(status, code, message, clientRequestId, { ...(activityId && { activityId }), ...(retryAfterSeconds !== undefined && { retryAfterSeconds }) });
}

/**
 * A failure of the SDK call as a value errors.ts can classify: a token the
 * managed identity could not get (the SDK's KustoAuthenticationError around
 * an @azure/identity error) as a KustoCredentialError, anything else as a
 * KustoRequestError (toRequestError).
 */
export function toKustoError(error: unknown, clientRequestId: string): KustoRequestError | KustoCredentialError {
  const identity = identityErrorIn(error);
  if (identity) return new KustoCredentialError(identity.message, clientRequestId, identity.name);
  return toRequestError(error, clientRequestId);
}

/** Any failure of the SDK call (AxiosError, ThrottlingError with `inner`, network error) as a KustoRequestError. */
export function toRequestError(error: unknown, clientRequestId: string): KustoRequestError {
  const cause = ((error as AxiosLikeError).inner ?? error) as AxiosLikeError;
  const response = cause.response;
  if (!response) return new KustoRequestError(undefined, cause.code ?? 'NetworkError', cause.message, clientRequestId);
  const retryAfter = integer(response.headers?.['retry-after']);
  const outer = oneApiError(response.data);
  if (!outer) {
    const body = typeof response.data === 'string' ? response.data : '';
    return plainTextError(response.status, body, clientRequestId, retryAfter);
  }
  // The innermost error is the most specific (SEM0100 inside General_BadRequest).
  let inner: Json | undefined;
  for (let next = outer.innererror as Json | undefined; next && typeof next === 'object'; next = next.innererror as Json | undefined) inner = next;
  const context = (outer['@context'] ?? {}) as Json;
  const details: KustoErrorDetails = {};
  const type = text(inner?.['@type']) ?? text(outer['@type']);
  if (type) details.type = type;
  const token = text(inner?.['@token']) ?? text(outer['@token']);
  if (token) details.token = token;
  const line = integer(inner?.['@line'] ?? outer['@line']);
  if (line !== undefined) details.line = line;
  const position = integer(inner?.['@pos'] ?? outer['@pos']);
  if (position !== undefined) details.position = position;
  const activityId = text(context.activityId) ?? text(response.headers?.['x-ms-activity-id']);
  if (activityId) details.activityId = activityId;
  if (retryAfter !== undefined) details.retryAfterSeconds = retryAfter;
  if (typeof outer['@permanent'] === 'boolean') details.permanent = outer['@permanent'];
  return new KustoRequestError(
    response.status,
    text(inner?.['@errorCode']) ?? text(inner?.code) ?? text(outer['@errorCode']) ?? text(outer.code) ?? `HTTP${response.status}`,
    text(outer['@message']) ?? text(inner?.['@message']) ?? text(outer.message) ?? `HTTP ${response.status}`,
    clientRequestId,
    details,
  );
}
