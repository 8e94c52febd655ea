/**
 * MCP protocol facts the edge needs. The protocol itself is the SDK's
 * (`@modelcontextprotocol/server`); these come from it or from the
 * 2026-07-28 specification's error codes.
 */
export { DEFAULT_NEGOTIATED_PROTOCOL_VERSION } from '@modelcontextprotocol/server';

/** The revision without `initialize`: per-request `_meta` envelope, `server/discover`. */
export const MODERN_PROTOCOL_VERSION = '2026-07-28';

export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** Transport-level refusals, as the SDK's transports use it. */
  ServerError: -32000,
  /** 2026-07-28: `Mcp-Method`/`Mcp-Name` headers disagree with the body. */
  HeaderMismatch: -32020,
  MissingClientCapability: -32021,
  UnsupportedProtocolVersion: -32022,
} as const;

const REASON_BY_CODE: Record<number, string> = {
  [ErrorCode.ParseError]: 'parse_error',
  [ErrorCode.InvalidRequest]: 'invalid_request',
  [ErrorCode.MethodNotFound]: 'method_not_found',
  [ErrorCode.InvalidParams]: 'invalid_params',
  [ErrorCode.InternalError]: 'internal_error',
  [ErrorCode.HeaderMismatch]: 'header_mismatch',
  [ErrorCode.MissingClientCapability]: 'missing_client_capability',
  [ErrorCode.UnsupportedProtocolVersion]: 'unsupported_protocol_version',
};

const REASON_BY_STATUS: Record<number, string> = {
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  413: 'body_too_large',
  415: 'unsupported_media_type',
};

/** A machine-readable reason for an HTTP-level refusal the SDK answered, for the audit event. */
export async function rejectionReason(response: Response): Promise<string> {
  let code: number | undefined;
  let message = '';
  try {
    const body = (await response.clone().json()) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === 'number') code = body.error.code;
    if (typeof body.error?.message === 'string') message = body.error.message;
  } catch {
    // Not a JSON-RPC error body: the status alone says it.
  }
  // The 2025-era transport answers an unknown MCP-Protocol-Version header with the generic server error code.
  if (code === ErrorCode.ServerError && /unsupported protocol version/i.test(message)) return 'unsupported_protocol_version';
  return REASON_BY_STATUS[response.status] ?? (code !== undefined ? REASON_BY_CODE[code] : undefined) ?? `http_${response.status}`;
}
