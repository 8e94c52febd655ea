import type { CallerIdentity } from './caller.ts';
import type { Cancellation, JsonRpcId } from './inflight.ts';

/** What our edge knows about one HTTP request, handed to the SDK server built for it. */
export interface CallContext {
  caller: CallerIdentity;
  /** Our own unique id for this HTTP request (also in the audit event and `x-request-id`); never client-chosen. */
  requestId: string;
  /** The client's W3C trace id from a valid `traceparent`, for correlation only. */
  traceId?: string | undefined;
  userAgent: string | undefined;
  /** The MCP revision the request was sent under (header, or the 2025-03-26 default). */
  protocolVersion: string;
  /** Aborted when the HTTP client disconnects (where the host can tell). */
  readonly signal: AbortSignal;
  /** Makes a call cancellable by `notifications/cancelled` while it runs. */
  cancellation(id: JsonRpcId): Cancellation;
  /**
   * Set by a tool call that met a Conditional Access claims challenge while
   * acting for the caller (on-behalf-of): the handler then answers the HTTP
   * request with 401 and the challenge, as MCP's authorization spec allows,
   * unless the answer already started streaming.
   */
  claimsChallenge?: string;
}
