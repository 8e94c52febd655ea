/**
 * The MCP requests the benchmarks send, as clients of each protocol era send
 * them: 2025 era (`MCP-Protocol-Version: 2025-11-25`, plain JSON-RPC body)
 * and 2026-07-28 (`Mcp-Method`/`Mcp-Name` headers matching the body and the
 * per-request `_meta` envelope in the params).
 */
export type Era = '2025-11-25' | '2026-07-28';
export const ERAS: readonly Era[] = ['2025-11-25', '2026-07-28'];
export const MODERN: Era = '2026-07-28';

export const BASE_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' } as const;

const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

export interface BenchRequest {
  headers: Record<string, string>;
  body: string;
}

/** One JSON-RPC request of `era`, as headers and a serialized body. */
export function mcpRequest(era: Era, method: string, params: Record<string, unknown> = {}, id = 1): BenchRequest {
  const headers: Record<string, string> = { ...BASE_HEADERS, 'mcp-protocol-version': era };
  let body: Record<string, unknown> = { jsonrpc: '2.0', id, method, params };
  if (era === MODERN) {
    headers['mcp-method'] = method;
    if (typeof params.name === 'string') headers['mcp-name'] = params.name;
    body = { ...body, params: { ...params, _meta: ENVELOPE } };
  }
  return { headers, body: JSON.stringify(body) };
}

export const toolsList = (era: Era) => mcpRequest(era, 'tools/list', {}, 1);
/** A tools/call that does no I/O: the handler answers from memory. */
export const toolsCall = (era: Era) => mcpRequest(era, 'tools/call', { name: 'server_info_get', arguments: {} }, 2);

export const BENCH_URL = 'http://127.0.0.1/mcp';

/** A fresh `Request` (bodies are single-use); built outside any timed region. */
export function toRequest(r: BenchRequest, url = BENCH_URL): Request {
  return new Request(url, { method: 'POST', headers: r.headers, body: r.body });
}
