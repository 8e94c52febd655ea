import { parseArgs } from 'node:util';
import { startEmulator } from '../emulator/server.ts';
import { startServerProcess } from '../test/support/server-process.ts';
import { messagesOf, modernPost } from '../test/support/mcp-request.ts';

/**
 * `npm run soak`: the real server process (dist/server.js, the bundled
 * Application Insights worker) under steady tool calls for a while, with the
 * SDK's own stats on and their export intervals shortened by the SDK's
 * settings, an ingestion 503 window every 20 s, then SIGTERM. It counts:
 * answered calls must equal audit records ingested plus printed to stdout,
 * none lost, none doubled, no worker restart.
 *
 *   npm run soak                  60 s
 *   npm run soak -- --seconds 960 --concurrency 1 --pause-ms 50
 *                                 past the network statsbeat's fixed 15-minute interval, gently
 *
 * Exits 1 when a record is lost or doubled. Not part of `npm test` (it is long by design).
 */
const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '60' }, concurrency: { type: 'string', default: '4' }, 'pause-ms': { type: 'string', default: '0' } },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
/** A pause between one lane's calls, for long runs that should not load the machine. */
const pauseMs = Number(values['pause-ms']);

const emulator = await startEmulator();
emulator.appInsights.requireEntraAuth = true;
const env = emulator.env();
// The emulator's environment turns the SDK's stats off; the soak wants every path of the SDK running.
for (const name of ['APPLICATION_INSIGHTS_NO_STATSBEAT', 'APPLICATIONINSIGHTS_STATSBEAT_DISABLED', 'APPLICATIONINSIGHTS_SDKSTATS_DISABLED']) delete env[name];
const server = await startServerProcess({
  ...env,
  AUDIT_SDK_STATS: 'true',
  // The SDK's own settings: SDK stats every 5 s (default 15 min), long-interval statsbeat every 10 s (default a day).
  APPLICATIONINSIGHTS_SDKSTATS_EXPORT_INTERVAL: '5',
  LONG_INTERVAL_EXPORT_MILLIS: '10000',
});

let answered = 0;
let failedCalls = 0;
const end = Date.now() + seconds * 1000;
const outages = setInterval(() => emulator.addFault({ service: 'appinsights', pathPrefix: '/v2.1/track', status: 503, times: 3 }), 20_000);

/** A 2026-07-28 tools/call, sent as the SDK v2 client sends it; answered = a JSON-RPC result came back. */
async function call(id: number): Promise<boolean> {
  const request = modernPost('tools/call', { name: 'server_info_get', arguments: {} }, { id });
  const response = await fetch(server.mcpUrl, { method: 'POST', headers: request.headers, body: await request.text() });
  return (await messagesOf(response)).some((message) => message.id === id && message.result);
}

let nextId = 1;
async function caller() {
  while (Date.now() < end) {
    const answeredNow = await call(nextId++).catch(() => false);
    if (answeredNow) answered++;
    else failedCalls++;
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}
await Promise.all(Array.from({ length: concurrency }, () => caller()));
clearInterval(outages);
const exitCode = await server.stop();

const ingested = emulator.appInsights
  .envelopes()
  .filter((envelope) => envelope.data?.baseData.name === 'mcp.tool.call')
  .map((envelope) => envelope.data?.baseData.properties as Record<string, string>);
const printed = server
  .stdout()
  .split('\n')
  .filter((line) => line.startsWith('{'))
  .map((line) => JSON.parse(line) as Record<string, string>)
  .filter((line) => line.event === 'mcp.tool.call');
const all = [...ingested, ...printed];
const recordIds = all.map((properties) => properties.recordId);
const unique = new Set(recordIds).size;
// Every answered call has exactly one record; a failed call (no answer) may or may not.
const lost = Math.max(0, answered - unique);
const doubled = recordIds.length - unique;
const track = emulator.requestsFor('appinsights').filter((r) => r.url.includes('/track'));
const summary = {
  seconds,
  answeredCalls: answered,
  failedCalls,
  recordsIngested: ingested.length,
  recordsPrinted: printed.length,
  lost,
  doubled,
  ingestion503s: track.filter((r) => r.status === 503).length,
  statsExports: track.filter((r) => r.body.includes('"Microsoft.ApplicationInsights.Statsbeat"')).length,
  workerRestarts: (server.stderr().match(/worker stopped/g) ?? []).length,
  exitCode,
};
console.log(JSON.stringify(summary, null, 2));
await emulator.close();
process.exit(lost === 0 && doubled === 0 && summary.workerRestarts === 0 && exitCode === 0 ? 0 : 1);
