import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, type Emulator } from '../../emulator/server.ts';
import { messagesOf, modernPost } from '../support/mcp-request.ts';
import { startServerProcess, type ServerProcess } from '../support/server-process.ts';

/**
 * Audit delivery through the real server process (dist/server.js and its
 * bundled worker) while Application Insights ingestion and the managed
 * identity fail: N answered tool calls → exactly N `mcp.tool.call` records,
 * each once, in ingestion or on stdout, by the time the process has exited.
 */
const TRACK = '/v2.1/track';
let emulator: Emulator;
let server: ServerProcess | undefined;

before(async () => {
  emulator = await startEmulator();
  emulator.appInsights.requireEntraAuth = true;
});
afterEach(async () => {
  await server?.stop();
  server = undefined;
  emulator.clearFaults();
  emulator.appInsights.clearEnvelopes();
});
after(() => emulator.close());

/** N tools/call through the server; returns how many got a JSON-RPC result. */
async function answeredCalls(url: string, count: number): Promise<number> {
  let answered = 0;
  for (let id = 1; id <= count; id++) {
    const request = modernPost('tools/call', { name: 'server_info_get', arguments: {} }, { id });
    const response = await fetch(url, { method: 'POST', headers: request.headers, body: await request.text() });
    if ((await messagesOf(response)).some((message) => message.id === id && message.result)) answered++;
  }
  return answered;
}

function recordsOf(process: ServerProcess) {
  const ingested = emulator.appInsights
    .envelopes()
    .filter((envelope) => envelope.data?.baseData.name === 'mcp.tool.call')
    .map((envelope) => (envelope.data?.baseData.properties as Record<string, string>).recordId);
  const printed = process
    .auditLines()
    .filter((line) => line.event === 'mcp.tool.call')
    .map((line) => line.recordId);
  const all = [...ingested, ...printed];
  return { ingested: ingested.length, printed: printed.length, unique: new Set(all).size, total: all.length };
}

/** The sum of the counts in the stderr lines announcing undelivered records. */
const reportedUndelivered = (stderr: string) =>
  [...stderr.matchAll(/AUDIT DELIVERY FAILURE: (\d+) audit record/g)].reduce((sum, match) => sum + Number(match[1]), 0);

test('503 windows, a 206 with per-item failures and a token outage while serving: N answered → N records, none doubled', async () => {
  emulator.addFault({ service: 'identity', status: 500, body: { error: 'unavailable' }, times: 2 });
  emulator.addFault({ service: 'appinsights', pathPrefix: TRACK, status: 503, times: 2 });
  emulator.appInsights.failItems(3, 500);
  server = await startServerProcess({ ...emulator.env(), MCP_SHUTDOWN_SECONDS: '8' });
  const answered = await answeredCalls(server.mcpUrl, 30);
  assert.equal(answered, 30);
  assert.equal(await server.stop(), 0);
  const records = recordsOf(server);
  assert.deepEqual({ unique: records.unique, total: records.total }, { unique: 30, total: 30 });
  assert.equal(records.ingested, 30, `all delivered once the faults passed; stderr:\n${server.stderr()}`);
  assert.ok(emulator.requestsFor('appinsights').some((r) => r.status === 503));
  assert.ok(emulator.requestsFor('appinsights').some((r) => r.status === 206));
});

test('a permanent 400 from ingestion: every answered call is printed to stdout, with the loud stderr line', async () => {
  emulator.addFault({ service: 'appinsights', pathPrefix: TRACK, status: 400, body: { itemsReceived: 1, itemsAccepted: 0, errors: [] } });
  server = await startServerProcess(emulator.env());
  const answered = await answeredCalls(server.mcpUrl, 5);
  assert.equal(await server.stop(), 0);
  assert.deepEqual(recordsOf(server), { ingested: 0, printed: answered, unique: answered, total: answered });
  assert.match(server.stderr(), /AUDIT DELIVERY FAILURE: \d+ audit record\(s\) not delivered to Application Insights \(rejected: HTTP 400/);
  assert.equal(reportedUndelivered(server.stderr()), answered, 'the loud lines count every printed record');
});

test('SIGTERM during an ingestion outage: the process exits by its deadline with every record on stdout', async () => {
  emulator.addFault({ service: 'appinsights', pathPrefix: TRACK, status: 503 });
  server = await startServerProcess({ ...emulator.env(), MCP_SHUTDOWN_SECONDS: '3' });
  const answered = await answeredCalls(server.mcpUrl, 10);
  const stopping = Date.now();
  assert.equal(await server.stop(), 0);
  const took = Date.now() - stopping;
  assert.ok(took < 5_000, `exit took ${took} ms against a 3 s shutdown deadline`);
  assert.deepEqual(recordsOf(server), { ingested: 0, printed: answered, unique: answered, total: answered });
  assert.equal(reportedUndelivered(server.stderr()), answered, 'the loud lines count every printed record');
});
