import { mkdir, writeFile } from 'node:fs/promises';
import { measureColdStart } from './cold-start.ts';
import { measureKusto } from './kusto.ts';
import { measureLoad } from './load.ts';
import { measureOverhead } from './overhead.ts';

/**
 * `npm run bench`: every figure in one run, printed as a table and written to
 * bench/results/latest.json. Targets are printed beside the figures; a
 * benchmark reports, it does not fail.
 */
const fmt = (n: number, digits = 3) => n.toFixed(digits);
const quick = process.argv.includes('--quick');

const overhead = await measureOverhead(quick ? 1000 : 5000);
const coldStart = await measureColdStart(quick ? 3 : 7);
const load = await measureLoad(quick ? 5 : 30, 64);
const kusto = await measureKusto();

const base = overhead.baseline.p50Ms;
/** MCP overhead = handler p50 minus the plain JSON handler's p50 (body read, parse, response). */
const net = (p50: number) => Math.max(p50 - base, 0.001);
const compare = (pair: { ours: { p50Ms: number }; naive: { p50Ms: number } }) =>
  `${fmt(net(pair.ours.p50Ms))} ms / ${fmt(net(pair.naive.p50Ms))} ms = ${fmt(net(pair.naive.p50Ms) / net(pair.ours.p50Ms), 1)}x lower`;
const rows: Array<[string, string, string]> = [
  [`MCP overhead tools/list p50 (ours / naive, ${overhead.toolCount} tools)`, compare(overhead.toolsList), '≥10x lower'],
  ['MCP overhead tools/call p50 (ours / naive)', compare(overhead.toolsCall), '≥10x lower'],
  ['handler p50 tools/list, tools/call (ours, raw)', `${fmt(overhead.toolsList.ours.p50Ms)} ms, ${fmt(overhead.toolsCall.ours.p50Ms)} ms (plain JSON handler ${fmt(base)} ms)`, '≤0.3 ms'],
  ['handler p99 tools/call (ours / naive, raw)', `${fmt(overhead.toolsCall.ours.p99Ms)} ms / ${fmt(overhead.toolsCall.naive.p99Ms)} ms`, ''],
  ['cold start (process → first tools/list)', `median ${fmt(coldStart.medianMs, 0)} ms (min ${fmt(coldStart.minMs, 0)}, max ${fmt(coldStart.maxMs, 0)}, ${coldStart.runs} runs)`, '≤300 ms'],
  [`load ${load.durationSeconds}s × ${load.connections} connections`, `${fmt(load.requestsPerSecond, 0)} req/s, p50 ${load.latencyP50Ms} ms, p99 ${load.latencyP99Ms} ms, errors ${load.errors}`, ''],
  ['RSS before / after load', `${fmt(load.rssBeforeMB, 1)} MB / ${fmt(load.rssAfterMB, 1)} MB`, ''],
  [
    `kusto_query tokens, ${kusto.tokens.rows} rows (o200k)`,
    `ours ${kusto.tokens.ours} / Azure MCP shape ${kusto.tokens.azureMcpShape} (${fmt(kusto.tokens.ratioToAzureShape * 100, 0)}%) / object-per-row JSON ${kusto.tokens.objectPerRowJson} (${fmt(kusto.tokens.ratioToObjectRows * 100, 0)}%)`,
    '≤100% / ≤65%',
  ],
  [`peak RSS, query over ${kusto.memory.table}`, `${fmt(kusto.memory.peakRssAfterMB, 1)} MB (${kusto.memory.rowsReturned} rows returned under the default budget)`, '≤200 MB'],
];
const width = Math.max(...rows.map((r) => r[0].length));
const valueWidth = Math.max(...rows.map((r) => r[1].length));
console.log(`\n${'figure'.padEnd(width)}  ${'measured'.padEnd(valueWidth)}  target`);
for (const [name, value, target] of rows) console.log(`${name.padEnd(width)}  ${value.padEnd(valueWidth)}  ${target}`);

await mkdir(new URL('./results/', import.meta.url), { recursive: true });
const report = { at: new Date().toISOString(), node: process.version, quick, overhead, coldStart, load, kusto };
await writeFile(new URL('./results/latest.json', import.meta.url), `${JSON.stringify(report, null, 2)}\n`);
console.log('\nwritten: bench/results/latest.json');
