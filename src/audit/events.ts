/**
 * The audit event schema (documented in docs/audit.md; bump SCHEMA_VERSION
 * on any incompatible change). Properties are strings, measurements numbers,
 * matching Application Insights customEvents.
 */
export const AUDIT_SCHEMA_VERSION = '1';

export const AuditEventName = {
  toolCall: 'mcp.tool.call',
  requestRejected: 'mcp.request.rejected',
  /** Something in a request that should not be there, reported while the request goes on (e.g. forged principal headers). */
  requestSuspicious: 'mcp.request.suspicious',
  /** A request to the authorization-server facade (sign-in relayed to Entra). */
  oauthRequest: 'mcp.oauth.request',
} as const;

export type AuditOutcome = 'success' | 'error' | 'denied';

export interface AuditEvent {
  name: (typeof AuditEventName)[keyof typeof AuditEventName];
  time: string;
  properties: Record<string, string>;
  measurements: Record<string, number>;
}

/**
 * Where audit events go. `record` never throws and never blocks the request.
 * `deadline` is an epoch-milliseconds time: by then the sink resolves, every
 * event recorded so far either confirmed delivered or written to its fallback
 * (stdout), never silently dropped.
 */
export interface AuditSink {
  record(event: AuditEvent): void;
  flush(deadline?: number): Promise<void>;
  close(deadline?: number): Promise<void>;
}
