/**
 * Graph's error envelope and response headers.
 *
 * Models https://learn.microsoft.com/graph/errors (graph-protocol.md §3): every error is
 * `{"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}`, clients
 * branch on `code`, and every response (success or not) carries `request-id` and
 * `client-request-id` headers. A nested `innerError.code` carries the more specific code where
 * Graph sends one (e.g. `throttledRequest` under `activityLimitReached`, §4).
 */

/** What Graph puts in `Content-Type` for JSON payloads (OData minimal metadata). */
export const ODATA_JSON = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

/** The ids one exchange answers with: generated `request-id`, echoed (or same) `client-request-id`. */
export interface RequestIds {
  requestId: string;
  clientRequestId: string;
}

/** A Graph error to be answered; handlers throw it, the service turns it into the envelope. */
export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly options: { innerCode?: string; headers?: Record<string, string> } = {},
  ) {
    super(message);
  }
}

/** `innerError.date` is UTC without fractional seconds or zone, as in Graph's own examples. */
function errorDate(now = new Date()): string {
  return now.toISOString().slice(0, 19);
}

export function errorBody(code: string, message: string, ids: RequestIds, innerCode?: string): Record<string, unknown> {
  return {
    error: {
      code,
      message,
      innerError: {
        ...(innerCode ? { code: innerCode } : {}),
        date: errorDate(),
        'request-id': ids.requestId,
        'client-request-id': ids.clientRequestId,
      },
    },
  };
}

export function idHeaders(ids: RequestIds): Record<string, string> {
  return { 'request-id': ids.requestId, 'client-request-id': ids.clientRequestId };
}

export function errorResponse(error: GraphError, ids: RequestIds): Response {
  return new Response(JSON.stringify(errorBody(error.code, error.message, ids, error.options.innerCode)), {
    status: error.status,
    headers: { 'content-type': ODATA_JSON, ...idHeaders(ids), ...error.options.headers },
  });
}

export function jsonResponse(status: number, body: unknown, ids: RequestIds, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': ODATA_JSON, ...idHeaders(ids), ...headers } });
}

export function emptyResponse(status: number, ids: RequestIds, headers: Record<string, string> = {}): Response {
  return new Response(null, { status, headers: { ...idHeaders(ids), ...headers } });
}

/** Shorthands for the codes the handlers use most. */
export const badRequest = (message: string, code = 'BadRequest') => new GraphError(400, code, message);
export const notFound = (message: string, code = 'NotFound') => new GraphError(404, code, message);
export const forbidden = (message: string, code = 'Forbidden') => new GraphError(403, code, message);
