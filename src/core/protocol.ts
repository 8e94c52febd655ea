/**
 * MCP protocol constants. They mirror `@modelcontextprotocol/sdk/types.js`
 * (a unit test keeps them equal) but are defined here because importing that
 * module builds hundreds of zod schemas (~100 ms), which would dominate cold
 * start; everything else from the SDK is imported as types only.
 */
export const LATEST_PROTOCOL_VERSION = '2025-11-25';
export const DEFAULT_NEGOTIATED_PROTOCOL_VERSION = '2025-03-26';
export const SUPPORTED_PROTOCOL_VERSIONS: readonly string[] = [
  LATEST_PROTOCOL_VERSION,
  '2025-06-18',
  '2025-03-26',
  '2024-11-05',
  '2024-10-07',
];

/** JSON-RPC batches were removed from MCP in 2025-06-18. */
export function allowsBatches(protocolVersion: string): boolean {
  return protocolVersion < '2025-06-18';
}

export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** Transport-level refusals, as the SDK's transport uses it. */
  ServerError: -32000,
} as const;
