import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { readBodyWithLimit } from '../src/core/body.ts';
import { ALL_TOOLS } from '../src/tools/catalog.ts';
import type { ServerFacts } from '../src/tools/define-tool.ts';
import { naiveHandler } from './naive-server.ts';

export interface LatencyStats {
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

const discard = { record() {}, async flush() {}, async close() {} };

function request(body: unknown): Request {
  return new Request('http://127.0.0.1/mcp', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' },
    body: JSON.stringify(body),
  });
}

async function measure(handle: (r: Request) => Promise<Response>, body: unknown, iterations: number): Promise<LatencyStats> {
  for (let i = 0; i < Math.min(500, iterations); i++) await (await handle(request(body))).text();
  const samples = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const req = request(body);
    const start = performance.now();
    const response = await handle(req);
    await response.text();
    samples[i] = performance.now() - start;
  }
  samples.sort();
  const at = (q: number) => samples[Math.min(iterations - 1, Math.floor(q * iterations))] ?? NaN;
  return { p50Ms: at(0.5), p99Ms: at(0.99), meanMs: samples.reduce((a, b) => a + b, 0) / iterations };
}

/**
 * What any web-standard handler pays regardless of MCP: read and parse the
 * body, build a JSON response. Subtracted from both sides to isolate the MCP
 * overhead itself.
 */
async function baselineHandler(request: Request): Promise<Response> {
  const body = await readBodyWithLimit(request, 1_048_576);
  const message = JSON.parse(body.ok ? body.text : '{}') as { id: number };
  return new Response(JSON.stringify({ jsonrpc: '2.0', id: message.id, result: {} }), { headers: { 'content-type': 'application/json' } });
}

/** Per-request MCP overhead of our handler against the naive per-request McpServer, same tools, no I/O. */
export async function measureOverhead(iterations = 5000) {
  const app = createApp(loadConfig({}), { auditSink: discard });
  const facts: ServerFacts = { name: 'bench', version: '1', authMode: 'functionKey', readOnly: true, toolsets: ['server'], toolNames: ALL_TOOLS.map((t) => t.name) };
  const naive = naiveHandler(ALL_TOOLS, (tool, args) =>
    tool.handler(args as never, {
      caller: { authMode: 'functionKey' },
      signal: new AbortController().signal,
      requestId: 'bench',
      protocolVersion: '2025-06-18',
      services: {},
      server: facts,
    }),
  );
  const list = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} };
  const call = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'server_info_get', arguments: {} } };
  const results = {
    baseline: await measure(baselineHandler, list, iterations),
    toolsList: { ours: await measure(app.fetch, list, iterations), naive: await measure(naive, list, iterations) },
    toolsCall: { ours: await measure(app.fetch, call, iterations), naive: await measure(naive, call, iterations) },
    toolCount: ALL_TOOLS.length,
  };
  await app.close();
  return results;
}
