import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { ALL_TOOLS } from '../src/tools/catalog.ts';
import { naiveHandlerFor } from '../bench/naive-server.ts';
import { memorySink } from './support/memory-sink.ts';

/**
 * Differential test: the same requests to our dispatcher and to the SDK's
 * own McpServer + WebStandardStreamableHTTPServerTransport (stateless, JSON
 * responses) must get the same status, the same JSON-RPC shape and error
 * codes, and the same negotiated versions. Messages may differ (ours say
 * what to do next); behaviour may not.
 */
const ours = createApp(loadConfig({}), { auditSink: memorySink() }).fetch;
const sdk = naiveHandlerFor(ALL_TOOLS.filter((tool) => tool.toolset === 'server'));

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const rpc = (method: string, params?: unknown, id: number | string = 1) => JSON.stringify({ jsonrpc: '2.0', id, method, ...(params !== undefined && { params }) });

interface Case {
  name: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

const cases: Case[] = [
  ...['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05', '1999-01-01'].map((version) => ({
    name: `initialize ${version}`,
    body: rpc('initialize', { protocolVersion: version, capabilities: {}, clientInfo: { name: 't', version: '1' } }),
  })),
  { name: 'ping', body: rpc('ping', undefined, 'p') },
  { name: 'tools/list', body: rpc('tools/list', {}) },
  { name: 'tools/call valid', body: rpc('tools/call', { name: 'server_info_get', arguments: {} }) },
  { name: 'tools/call unknown tool', body: rpc('tools/call', { name: 'nope', arguments: {} }) },
  { name: 'tools/call invalid arguments', body: rpc('tools/call', { name: 'server_info_get', arguments: { extra: 1 } }) },
  { name: 'unknown method', body: rpc('resources/list') },
  { name: 'notification', body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) },
  { name: 'client response', body: JSON.stringify({ jsonrpc: '2.0', id: 5, result: {} }) },
  { name: 'parse error', body: '{"jsonrpc":' },
  { name: 'missing Accept', headers: { accept: 'application/json' }, body: rpc('ping') },
  { name: 'wrong Content-Type', headers: { 'content-type': 'text/plain' }, body: rpc('ping') },
  { name: 'unsupported protocol version header', headers: { 'mcp-protocol-version': '2023-01-01' }, body: rpc('ping') },
  { name: 'batch under 2025-03-26', headers: { 'mcp-protocol-version': '2025-03-26' }, body: `[${rpc('ping', undefined, 1)},${rpc('tools/list', {}, 2)}]` },
];
// Deliberate differences, covered by src/core/handler.test.ts: GET and DELETE are 405 here (the
// SDK's bare stateless transport opens an event stream / accepts a session delete), and
// `tools.listChanged` is false because a stateless server never sends that notification.

async function send(handler: (request: Request) => Promise<Response>, c: Case) {
  const method = c.method ?? 'POST';
  const response = await handler(
    new Request('http://127.0.0.1/mcp', { method, headers: { ...JSON_HEADERS, ...c.headers }, ...(c.body !== undefined && method === 'POST' && { body: c.body }) }),
  );
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

/** What must agree: ids, result vs error, error codes, negotiated version, tool names, isError. */
function shape(body: unknown): unknown {
  if (Array.isArray(body)) return body.map(shape);
  if (body === undefined || body === null || typeof body !== 'object') return body;
  const message = body as { id?: unknown; error?: { code: number }; result?: Record<string, unknown> };
  return {
    id: message.id ?? null,
    error: message.error?.code,
    protocolVersion: message.result?.protocolVersion,
    capabilities: message.result?.capabilities && Object.keys(message.result.capabilities as object),
    tools: (message.result?.tools as Array<{ name: string; inputSchema: { type: string } }> | undefined)?.map((tool) => [tool.name, tool.inputSchema.type]),
    isError: message.result && 'content' in message.result ? Boolean(message.result.isError) : undefined,
  };
}

for (const c of cases) {
  test(`same behaviour as the SDK transport: ${c.name}`, async () => {
    const [a, b] = await Promise.all([send(ours, c), send(sdk, c)]);
    assert.equal(a.status, b.status, `status: ours ${a.status}, SDK ${b.status}`);
    assert.deepEqual(shape(a.body), shape(b.body));
  });
}
