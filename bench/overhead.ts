import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { readBodyWithLimit } from '../src/core/body.ts';
import { ALL_TOOLS } from '../src/tools/catalog.ts';
import { naiveHandlerFor } from './naive-server.ts';

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

type Handler = (r: Request) => Promise<Response>;

const BLOCK = 250;
const collectGarbage = (globalThis as { gc?: () => void }).gc;

/**
 * Times several handlers on the same body in alternating blocks, so drift in
 * machine speed (shared, noisy hosts) hits all of them alike; a GC between
 * blocks (with --expose-gc) keeps one handler's garbage out of another's timings.
 */
async function measureInterleaved(handlers: Record<string, Handler>, body: unknown, iterations: number): Promise<Record<string, LatencyStats>> {
  const names = Object.keys(handlers);
  for (let i = 0; i < Math.min(500, iterations); i++) for (const name of names) await (await handlers[name]!(request(body))).text();
  const samples = Object.fromEntries(names.map((name) => [name, new Float64Array(iterations)]));
  for (let offset = 0; offset < iterations; offset += BLOCK) {
    for (const name of names) {
      collectGarbage?.();
      for (let i = offset; i < Math.min(offset + BLOCK, iterations); i++) {
        const req = request(body);
        const start = performance.now();
        const response = await handlers[name]!(req);
        await response.text();
        samples[name]![i] = performance.now() - start;
      }
    }
  }
  return Object.fromEntries(
    names.map((name) => {
      const sorted = samples[name]!.sort();
      const at = (q: number) => sorted[Math.min(iterations - 1, Math.floor(q * iterations))] ?? NaN;
      return [name, { p50Ms: at(0.5), p99Ms: at(0.99), meanMs: sorted.reduce((a, b) => a + b, 0) / iterations }];
    }),
  );
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
  const naive = naiveHandlerFor(ALL_TOOLS);
  const list = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} };
  const call = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'server_info_get', arguments: {} } };
  const handlers = { baseline: baselineHandler, ours: app.fetch, naive };
  const listStats = await measureInterleaved(handlers, list, iterations);
  const callStats = await measureInterleaved(handlers, call, iterations);
  const results = {
    baseline: listStats.baseline as LatencyStats,
    toolsList: { ours: listStats.ours as LatencyStats, naive: listStats.naive as LatencyStats },
    toolsCall: { ours: callStats.ours as LatencyStats, naive: callStats.naive as LatencyStats },
    toolCount: ALL_TOOLS.length,
  };
  await app.close();
  return results;
}
