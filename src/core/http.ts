export const JSON_HEADERS = { 'content-type': 'application/json' } as const;

export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });
}

/** An HTTP-level refusal with a JSON-RPC error body, as the SDK transport shapes them. */
export function jsonRpcErrorResponse(status: number, code: number, message: string, headers: Record<string, string> = {}): Response {
  return jsonResponse({ jsonrpc: '2.0', error: { code, message }, id: null }, status, headers);
}

/** Adds headers to a response, copying it only when its headers are immutable. */
export function withHeaders(response: Response, headers: Record<string, string>): Response {
  try {
    for (const name in headers) response.headers.set(name, headers[name]!);
    return response;
  } catch {
    const copy = new Response(response.body, { status: response.status, statusText: response.statusText, headers: response.headers });
    for (const name in headers) copy.headers.set(name, headers[name]!);
    return copy;
  }
}
