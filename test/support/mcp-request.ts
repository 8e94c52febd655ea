/** Builds requests the way a streamable-HTTP MCP client sends them. */
export const MCP_URL = 'http://127.0.0.1:7071/mcp';

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
