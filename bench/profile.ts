import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { DEPLOYMENT_ENV } from './server-process.ts';
import { ERAS, toolsCall, toolsList, toRequest, type Era } from './requests.ts';

/**
 * Where our handler's time goes: profiles only a loop of one request kind
 * through app.fetch (after a warm-up) and prints CPU time by area, so a hot
 * spot can be shown rather than guessed. The .cpuprofile is written to the
 * temp directory (open it in Chrome DevTools or VS Code).
 *
 *   node --import tsx bench/profile.ts [2025-11-25|2026-07-28] [tools/list|tools/call] [requests]
 */
const [eraArg = '2025-11-25', method = 'tools/call', countArg = '20000'] = process.argv.slice(2);
if (!ERAS.includes(eraArg as Era) || !['tools/list', 'tools/call'].includes(method)) {
  process.stderr.write(`usage: bench/profile.ts [${ERAS.join('|')}] [tools/list|tools/call] [requests]\n`);
  process.exit(2);
}
const era = eraArg as Era;
const count = Number(countArg);
const discard = { record() {}, async flush() {}, async close() {} };
const app = createApp(loadConfig(DEPLOYMENT_ENV), { auditSink: discard });
const body = method === 'tools/list' ? toolsList(era) : toolsCall(era);
for (let i = 0; i < 3000; i++) await (await app.fetch(toRequest(body))).text();

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 50 });
await session.post('Profiler.start');
const started = performance.now();
for (let i = 0; i < count; i++) await (await app.fetch(toRequest(body))).text();
const perRequestMs = (performance.now() - started) / count;
const { profile } = await session.post('Profiler.stop');
await app.close();
const file = join(tmpdir(), `mcp-${era}-${method.replace('/', '-')}-node${process.versions.node.split('.')[0]}.cpuprofile`);
writeFileSync(file, JSON.stringify(profile));

/** Areas, matched from the sampled frame outwards: the innermost frame that matches names the area. */
const AREAS: Array<[string, RegExp]> = [
  ['bench loop: build Request, read response text', /^(toRequest|text) .*(bench\/requests|undici)/],
  ['SDK: zod checks of messages and results', /^(isJSONRPC\w*|isInitializeRequest|validateResult|validateRequest|triState\$1) .*@modelcontextprotocol/],
  ['SDK: era classification', /^classifyEntryRequest .*@modelcontextprotocol/],
  ['SDK: per-request teardown (close, SdkError)', /^(_onclose|close|_transport\.onclose) .*@modelcontextprotocol/],
  ['SDK: Server construction and connect', /^(Server|connect|setRequestHandler) .*@modelcontextprotocol|^createServer .*src\/core/],
  ['SDK: Response.json (serialize, body stream)', /^(json|_Response) node:internal\/deps\/undici/],
  ['ours: tool call (zod input/output, tool)', /^runTool .*src\/core/],
  ['ours: audit event', /^toolCall .*src\/audit/],
  ['ours: body read', /^readBodyWithLimit .*src/],
  ['ours: request id', /^requestIdFor .*src/],
];
type ProfileNode = { id: number; callFrame: { functionName: string; url: string }; children?: number[] };
const nodes = new Map((profile.nodes as ProfileNode[]).map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of nodes.values()) for (const child of n.children ?? []) parent.set(child, n.id);
const frame = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(src|bench)\//, '$1/')}`;
const byArea = new Map<string, number>();
const bySelf = new Map<string, number>();
let total = 0;
profile.samples!.forEach((sample, i) => {
  const dt = profile.timeDeltas![i] ?? 0;
  total += dt;
  const leaf = nodes.get(sample)!;
  bySelf.set(frame(leaf), (bySelf.get(frame(leaf)) ?? 0) + dt);
  let area: string | undefined;
  for (let id: number | undefined = sample; id !== undefined && !area; id = parent.get(id)) area = AREAS.find(([, re]) => re.test(frame(nodes.get(id)!)))?.[0];
  area ??= /garbage collector/.test(frame(leaf))
    ? 'GC'
    : /src\/(core|app)/.test(frame(leaf))
      ? 'ours: handler edge (other)'
      : /@modelcontextprotocol/.test(frame(leaf))
        ? 'SDK: other'
        : /^\((program|idle)\)|inspector/.test(frame(leaf))
          ? 'program, idle, profiler'
          : 'Node internals (streams, AbortSignal, microtasks) and other';
  byArea.set(area, (byArea.get(area) ?? 0) + dt);
});
const print = (title: string, m: Map<string, number>, top: number) => {
  console.log(`\n${title}`);
  for (const [k, t] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((100 * t) / total).toFixed(1).padStart(5)}%  ${k}`);
};
console.log(`${era} ${method} on Node ${process.version}: ${perRequestMs.toFixed(3)} ms per request (loop incl. building the Request); profile: ${file}`);
print('CPU by area', byArea, 20);
print('top functions (self time)', bySelf, 15);
