export const JSON_HEADERS = { 'content-type': 'application/json' } as const;

export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });
}

/** An HTTP-level refusal with a JSON-RPC error body, as the SDK transport shapes them. */
export function jsonRpcErrorResponse(status: number, code: number, message: string, headers: Record<string, string> = {}): Response {
  return jsonResponse({ jsonrpc: '2.0', error: { code, message }, id: null }, status, headers);
}

/** Adds headers to a response in place (every response here is built in-process, so its headers are mutable). */
export function withHeaders(response: Response, headers: Record<string, string>): Response {
  for (const name in headers) response.headers.set(name, headers[name]!);
  return response;
}
