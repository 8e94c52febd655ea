import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { readBodyWithLimit } from '../src/core/body.ts';
import { ALL_TOOLS } from '../src/tools/catalog.ts';
import { naiveV1HandlerFor, naiveV2HandlerFor } from './naive-server.ts';
import { DEPLOYMENT_ENV } from './server-process.ts';
import { ERAS, MODERN, toolsCall, toolsList, toRequest, type BenchRequest, type Era } from './requests.ts';

export interface LatencyStats {
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

type Handler = (r: Request) => Promise<Response>;

/** The handlers compared, in table order. */
export const HANDLERS = {
  baseline: 'plain JSON handler (baseline)',
  ours: 'ours (app.fetch)',
  naiveV1: 'SDK v1 McpServer per request',
  naiveV2: 'SDK v2 McpServer per request',
} as const;
export type HandlerName = keyof typeof HANDLERS;
export const METHODS = ['tools/list', 'tools/call'] as const;
export type Method = (typeof METHODS)[number];

/** Per era and method, the latency of each handler that speaks that era. */
export type OverheadResults = {
  iterations: number;
  toolCount: number;
  eras: Record<Era, Record<Method, Partial<Record<HandlerName, LatencyStats>>>>;
};

const discard = { record() {}, async flush() {}, async close() {} };
const BLOCK = 250;
const collectGarbage = (globalThis as { gc?: () => void }).gc;

/** A benchmark of error answers would be meaningless: check each handler answers with a JSON-RPC result (JSON or one SSE event). */
async function expectResult(name: string, response: Response): Promise<void> {
  const text = await response.text();
  const json = response.headers.get('content-type')?.startsWith('text/event-stream') ? /^data: (.*)$/m.exec(text)?.[1] : text;
  let message: { result?: { isError?: boolean } } | undefined;
  try {
    message = JSON.parse(json ?? '') as typeof message;
  } catch {
    // reported below
  }
  if (!response.ok || !message?.result || message.result.isError) throw new Error(`${name} did not answer with a result (HTTP ${response.status}): ${text.slice(0, 300)}`);
}

/**
 * Times several handlers on the same request in alternating blocks, so drift
 * in machine speed (shared, noisy hosts) hits all of them alike; a GC between
 * blocks (with --expose-gc) keeps one handler's garbage out of another's
 * timings. Each request is built before its timed region: only the handler
 * and reading its response body are timed.
 */
async function measureInterleaved(handlers: Partial<Record<HandlerName, Handler>>, body: BenchRequest, iterations: number): Promise<Partial<Record<HandlerName, LatencyStats>>> {
  const names = Object.keys(handlers) as HandlerName[];
  for (const name of names) await expectResult(name, await handlers[name]!(toRequest(body)));
  for (let i = 0; i < Math.min(500, iterations); i++) for (const name of names) await (await handlers[name]!(toRequest(body))).text();
  const samples = Object.fromEntries(names.map((name) => [name, new Float64Array(iterations)])) as Record<HandlerName, Float64Array>;
  const requests: Request[] = new Array(BLOCK);
  for (let offset = 0; offset < iterations; offset += BLOCK) {
    const end = Math.min(offset + BLOCK, iterations);
    for (const name of names) {
      const handler = handlers[name]!;
      for (let i = offset; i < end; i++) requests[i - offset] = toRequest(body);
      collectGarbage?.();
      for (let i = offset; i < end; i++) {
        const req = requests[i - offset]!;
        const start = performance.now();
        const response = await handler(req);
        await response.text();
        samples[name][i] = performance.now() - start;
      }
    }
  }
  return Object.fromEntries(
    names.map((name) => {
      const sorted = samples[name].sort();
      const at = (q: number) => sorted[Math.min(iterations - 1, Math.floor(q * iterations))] ?? NaN;
      return [name, { p50Ms: at(0.5), p99Ms: at(0.99), meanMs: sorted.reduce((a, b) => a + b, 0) / iterations }];
    }),
  );
}

/**
 * What any web-standard handler pays regardless of MCP: read and parse the
 * body, build a JSON response. Subtracted from every side to isolate the MCP
 * overhead itself.
 */
async function baselineHandler(request: Request): Promise<Response> {
  const body = await readBodyWithLimit(request, 1_048_576);
  const message = JSON.parse(body.ok ? body.text : '{}') as { id: number };
  return new Response(JSON.stringify({ jsonrpc: '2.0', id: message.id, result: {} }), { headers: { 'content-type': 'application/json' } });
}

/**
 * Per-request latency of our handler against the per-request McpServer
 * patterns of SDK v1 and v2, same tools, no I/O, both protocol eras. A Kusto
 * cluster is configured (never contacted: tools/list and server_info_get make
 * no backend call) so our tools/list carries every tool, as the naive ones do.
 */
export async function measureOverhead(iterations = 5000): Promise<OverheadResults> {
  const app = createApp(loadConfig(DEPLOYMENT_ENV), { auditSink: discard });
  const naiveV1 = naiveV1HandlerFor(ALL_TOOLS);
  const naiveV2 = naiveV2HandlerFor(ALL_TOOLS);
  const eras = {} as OverheadResults['eras'];
  try {
    for (const era of ERAS) {
      // SDK v1 has no 2026-07-28.
      const handlers: Partial<Record<HandlerName, Handler>> = era === MODERN ? { baseline: baselineHandler, ours: app.fetch, naiveV2 } : { baseline: baselineHandler, ours: app.fetch, naiveV1, naiveV2 };
      eras[era] = {
        'tools/list': await measureInterleaved(handlers, toolsList(era), iterations),
        'tools/call': await measureInterleaved(handlers, toolsCall(era), iterations),
      };
    }
  } finally {
    await app.close();
  }
  return { iterations, toolCount: ALL_TOOLS.length, eras };
}
