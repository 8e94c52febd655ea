import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAppInsightsAuditSink, type AppInsightsSinkOptions } from '../../src/audit/appinsights-sink.ts';
import type { AuditEvent } from '../../src/audit/events.ts';
import { startEmulator, type Emulator } from '../../emulator/server.ts';
import { memorySink } from '../support/memory-sink.ts';

/**
 * Delivery of audit records by the bundled Application Insights worker
 * (dist/appinsights-worker.js, the file that ships) against the emulated
 * ingestion endpoint and its faults. Every scenario counts: N records in,
 * N out, each exactly once, either in ingestion or in the stdout fallback.
 */
const BUNDLED_WORKER = new URL('../../dist/appinsights-worker.js', import.meta.url);
const TRACK = '/v2.1/track';

let emulator: Emulator;
let scratch: string;

before(async () => {
  emulator = await startEmulator();
  emulator.appInsights.requireEntraAuth = true;
  // msal-node fixes its managed identity source on first use: set the environment first.
  const env = emulator.env();
  for (const name of ['IDENTITY_ENDPOINT', 'IDENTITY_HEADER', 'AZURE_CLIENT_ID']) process.env[name] = env[name];
  scratch = await mkdtemp(join(tmpdir(), 'audit-delivery-'));
});

after(async () => {
  await emulator.close();
  await rm(scratch, { recursive: true, force: true });
});

/** Exchanges recorded before the current test started. */
let mark = 0;
beforeEach(() => {
  emulator.clearFaults();
  emulator.appInsights.clearEnvelopes();
  mark = emulator.requests.length;
});

/** This test's exchanges with a service. */
const exchanges = (service: string) => emulator.requests.slice(mark).filter((r) => r.service === service);
const trackRequests = () => exchanges('appinsights').filter((r) => r.url.includes(TRACK));

function events(count: number): AuditEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    name: 'mcp.tool.call',
    time: new Date().toISOString(),
    properties: { recordId: randomUUID(), tool: 'server_info_get', outcome: 'success', jsonRpcId: String(i) },
    measurements: { durationMs: 1 },
  }));
}

function sinkFor(overrides: Partial<AppInsightsSinkOptions> = {}) {
  const fallback = memorySink();
  const errors: string[] = [];
  const sink = createAppInsightsAuditSink({
    connectionString: emulator.appInsights.connectionString,
    sdkStats: false,
    roleName: 'audit-delivery-test',
    version: '0.0.0',
    managedIdentityClientId: emulator.identity.clientId,
    hasManagedIdentityEndpoint: true,
    workerUrl: BUNDLED_WORKER,
    retryBaseMs: 50,
    fallback,
    onError: (message) => errors.push(message),
    ...overrides,
  });
  return { sink, fallback, errors };
}

const ingestedIds = () =>
  emulator.appInsights
    .envelopes()
    .filter((envelope) => envelope.data?.baseType === 'EventData')
    .map((envelope) => (envelope.data?.baseData.properties as Record<string, string>).recordId);

/** Every sent record exactly once, in ingestion or in the fallback; returns how many took each path. */
function assertEachOnce(sent: AuditEvent[], fallbackEvents: AuditEvent[]) {
  const ingested = ingestedIds();
  const printed = fallbackEvents.map((event) => event.properties.recordId);
  assert.equal(new Set(ingested).size, ingested.length, 'no record ingested twice');
  assert.equal(new Set(printed).size, printed.length, 'no record printed twice');
  assert.ok(!ingested.some((id) => printed.includes(id)), 'no record both ingested and printed');
  assert.deepEqual([...ingested, ...printed].sort(), sent.map((event) => event.properties.recordId).sort(), 'every record accounted for');
  return { ingested: ingested.length, printed: printed.length };
}

async function run(count: number, overrides: Partial<AppInsightsSinkOptions> = {}, flushWithinMs = 20_000) {
  const { sink, fallback, errors } = sinkFor(overrides);
  const sent = events(count);
  for (const event of sent) sink.record(event);
  await sink.close(Date.now() + flushWithinMs);
  return { sent, fallback: fallback.events, errors };
}

test('healthy ingestion: 20 records, 20 confirmed, none printed', async () => {
  const { sent, fallback, errors } = await run(20);
  assert.deepEqual(assertEachOnce(sent, fallback), { ingested: 20, printed: 0 });
  assert.deepEqual(errors, []);
});

test('a 503 window: every record is sent again and delivered, none lost or doubled', async () => {
  emulator.addFault({ service: 'appinsights', pathPrefix: TRACK, status: 503, times: 3 });
  const { sent, fallback } = await run(10);
  assert.deepEqual(assertEachOnce(sent, fallback), { ingested: 10, printed: 0 });
  const answers = trackRequests().map((r) => r.status);
  assert.deepEqual(answers.slice(0, 3), [503, 503, 503]);
});

test('429 with Retry-After: the next attempt waits for it', async () => {
  emulator.addFault({ service: 'appinsights', pathPrefix: TRACK, status: 429, headers: { 'retry-after': '1' }, times: 1 });
  const { sent, fallback } = await run(5);
  assert.deepEqual(assertEachOnce(sent, fallback), { ingested: 5, printed: 0 });
  const track = trackRequests();
  assert.equal(track[0]?.status, 429);
  assert.ok((track[1]?.at ?? 0) - (track[0]?.at ?? 0) >= 900, 'second attempt honoured Retry-After: 1');
});

test('a permanent 400: all 5 records are printed with one loud line, not retried', async () => {
  emulator.addFault({ service: 'appinsights', pathPrefix: TRACK, status: 400, body: { itemsReceived: 5, itemsAccepted: 0, errors: [] } });
  const { sent, fallback, errors } = await run(5);
  assert.deepEqual(assertEachOnce(sent, fallback), { ingested: 0, printed: 5 });
  assert.equal(errors.length, 1, errors.join('\n'));
  assert.match(errors[0] ?? '', /AUDIT DELIVERY FAILURE: 5 audit record\(s\).*rejected: HTTP 400/);
  assert.equal(trackRequests().length, 1, 'a permanent error is not retried');
});

test('206 partial: throttled items are sent again, invalid items printed, the rest confirmed once', async () => {
  emulator.appInsights.failItems(3, 500);
  emulator.appInsights.failItems(2, 400);
  const { sent, fallback, errors } = await run(12);
  assert.deepEqual(assertEachOnce(sent, fallback), { ingested: 10, printed: 2 });
  assert.ok(trackRequests().some((r) => r.status === 206));
  assert.ok(errors.some((line) => /AUDIT DELIVERY FAILURE: 2 audit record\(s\)/.test(line)), errors.join('\n'));
});

test('a managed identity outage (no Monitor token): records wait and are delivered when tokens come back', async () => {
  emulator.addFault({ service: 'identity', status: 500, body: { error: 'unavailable' }, times: 2 });
  const { sent, fallback } = await run(3);
  assert.deepEqual(assertEachOnce(sent, fallback), { ingested: 3, printed: 0 });
  assert.ok(exchanges('identity').some((r) => r.status === 500), 'the outage was hit');
});

test('an outage at shutdown: by the deadline every record is printed, none lost, exit not delayed', async () => {
  emulator.addFault({ service: 'appinsights', pathPrefix: TRACK, status: 503 });
  const started = Date.now();
  const { sent, fallback, errors } = await run(5, {}, 1_500);
  assert.ok(Date.now() - started < 3_000, `close took ${Date.now() - started} ms against a 1.5 s deadline`);
  assert.deepEqual(assertEachOnce(sent, fallback), { ingested: 0, printed: 5 });
  assert.match(errors.join('\n'), /AUDIT DELIVERY FAILURE: 5 audit record\(s\)/);
});

test('the worker dies with records in it: it is restarted and every record delivered once', async () => {
  const workerUrl = new URL('../support/dying-appinsights-worker.mjs', import.meta.url);
  process.env.DYING_WORKER_AFTER = '5';
  process.env.DYING_WORKER_FLAG = join(scratch, `died-${randomUUID()}`);
  const { sent, fallback, errors } = await run(10, { workerUrl });
  delete process.env.DYING_WORKER_AFTER;
  delete process.env.DYING_WORKER_FLAG;
  assert.deepEqual(assertEachOnce(sent, fallback), { ingested: 10, printed: 0 });
  assert.equal(errors.filter((line) => /worker stopped \(worker exited with code 1\); restarting/.test(line)).length, 1, errors.join('\n'));
});

test('a worker that cannot start: after the restart budget, records go to stdout, none lost', async () => {
  const workerUrl = new URL('../support/no-such-worker.mjs', import.meta.url);
  const { sink, fallback, errors } = sinkFor({ workerUrl, maxRestarts: 2 });
  const early = events(4);
  for (const event of early) sink.record(event);
  await sink.flush(Date.now() + 5_000);
  const late = events(3);
  for (const event of late) sink.record(event);
  await sink.close(Date.now() + 1_000);
  assert.deepEqual(assertEachOnce([...early, ...late], fallback.events), { ingested: 0, printed: 7 });
  assert.ok(errors.some((line) => /failed 3 times in a minute/.test(line)), errors.join('\n'));
});

const SDK_STATS_SWITCHES = [
  'APPLICATIONINSIGHTS_SDKSTATS_EXPORT_INTERVAL',
  'APPLICATIONINSIGHTS_SDKSTATS_DISABLED',
  'APPLICATIONINSIGHTS_STATSBEAT_DISABLED',
  'APPLICATION_INSIGHTS_NO_STATSBEAT',
];

test('SDK stats on, exported every second: the bundled worker survives its stats exports and keeps delivering', async () => {
  // The SDK's own settings: the interval shortened from 15 min, and the test runner's
  // switch-off lifted. A worker copies the environment when it starts.
  const saved = Object.fromEntries(SDK_STATS_SWITCHES.map((name) => [name, process.env[name]]));
  process.env.APPLICATIONINSIGHTS_SDKSTATS_EXPORT_INTERVAL = '1';
  delete process.env.APPLICATIONINSIGHTS_SDKSTATS_DISABLED;
  delete process.env.APPLICATIONINSIGHTS_STATSBEAT_DISABLED;
  delete process.env.APPLICATION_INSIGHTS_NO_STATSBEAT;
  try {
    const { sink, fallback, errors } = sinkFor({ sdkStats: true });
    const first = events(3);
    for (const event of first) sink.record(event);
    await sink.flush(Date.now() + 10_000);
    // Several stats export intervals pass with the worker alive.
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    const second = events(3);
    for (const event of second) sink.record(event);
    await sink.close(Date.now() + 10_000);
    assert.deepEqual(assertEachOnce([...first, ...second], fallback.events), { ingested: 6, printed: 0 });
    assert.deepEqual(errors, [], 'no worker death, no fallback');
    // The stats exporter (the class whose `await import(httpSender)` broke once bundled)
    // sent several times; it has no Entra token, so this Entra-only ingestion refuses it.
    const statsExports = trackRequests().filter((r) => r.body.includes('"Microsoft.ApplicationInsights.Statsbeat"'));
    assert.ok(statsExports.length >= 2, `stats exports: ${statsExports.length}`);
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
});
