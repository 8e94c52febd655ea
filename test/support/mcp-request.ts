/** Builds requests the way streamable-HTTP MCP clients of both eras send them. */
export const MCP_URL = 'http://127.0.0.1:7071/mcp';
export const MODERN = '2026-07-28';

export function mcpPost(body: unknown, headers: Record<string, string> = {}): Request {
  return new Request(MCP_URL, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export const rpc = (method: string, params?: unknown, id: string | number = 1) => ({ jsonrpc: '2.0', id, method, ...(params !== undefined && { params }) });

/** The 2026-07-28 per-request envelope, as the SDK v2 client sends it. */
export const envelope = (clientCapabilities: Record<string, unknown> = {}) => ({
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'test', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': clientCapabilities,
});

/** A 2026-07-28 request: `_meta` envelope in the params, `Mcp-Method`/`Mcp-Name` headers matching the body. */
export function modernPost(method: string, params: Record<string, unknown> = {}, options: { id?: string | number; headers?: Record<string, string>; meta?: Record<string, unknown> } = {}): Request {
  const { _meta, ...rest } = params as { _meta?: Record<string, unknown> };
  const body = rpc(method, { ...rest, _meta: { ...envelope(), ...options.meta, ..._meta } }, options.id ?? 1);
  const name: Record<string, string> = typeof params.name === 'string' ? { 'mcp-name': params.name } : {};
  return mcpPost(body, { 'mcp-protocol-version': MODERN, 'mcp-method': method, ...name, ...options.headers });
}

/** The JSON-RPC messages of a response, whether it came as JSON or as an event stream. */
export async function messagesOf(response: Response): Promise<Array<Record<string, any>>> {
  const text = await response.text();
  if (!response.headers.get('content-type')?.startsWith('text/event-stream')) return text ? [JSON.parse(text)].flat() : [];
  return text
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(5).trim())
    .filter((data) => data.length > 0)
    .map((data) => JSON.parse(data));
}
