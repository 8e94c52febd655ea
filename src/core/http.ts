import { ErrorCode } from './protocol.ts';

export const JSON_HEADERS = { 'content-type': 'application/json' } as const;

export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });
}

/** An HTTP-level refusal with a JSON-RPC error body, as the SDK transport shapes them. */
export function jsonRpcErrorResponse(
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return jsonResponse({ jsonrpc: '2.0', error: { code, message }, id: null }, status, headers);
}

export const methodNotAllowed = (allow: string) =>
  jsonRpcErrorResponse(
    405,
    ErrorCode.ServerError,
    `Method not allowed: this stateless server accepts ${allow} only (no sessions, no server-sent event stream).`,
    { allow },
  );
