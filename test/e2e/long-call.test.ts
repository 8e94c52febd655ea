import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createKustoService, type KustoService } from '../../emulator/kusto/service.ts';
import { startEmulator, type Emulator } from '../../emulator/server.ts';
import { MCP_HEADERS, startServerProcess, type ServerProcess } from '../support/server-process.ts';

/**
 * Long calls through the real server with the official clients: a 90 s
 * Kusto query outlives the clients' 60 s default request timeout because
 * progress streams while it runs, and a cancel stops it on the cluster.
 */
const QUERY_SECONDS = 90;
let emulator: Emulator;
let kusto: KustoService;
let server: ServerProcess;

before(async () => {
  kusto = createKustoService();
  emulator = await startEmulator({ services: [kusto] });
  server = await startServerProcess({
    ...emulator.env(),
    KUSTO_CLUSTERS: `help=${emulator.origin('help.kusto.localhost')}/Samples`,
  });
});
beforeEach(() => kusto.reset());
after(async () => {
  await server?.stop();
  await emulator?.close();
});

const waitFor = async (what: string, condition: () => boolean, ms = 10_000) => {
  for (let waited = 0; !condition(); waited += 20) {
    if (waited > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

/** Records the content type of every answer, to see which came as an event stream. */
function recordingFetch(contentTypes: string[]): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    contentTypes.push(response.headers.get('content-type') ?? '');
    return response;
  };
}

const longQuery = { query: 'StormEvents | summarize count() by State', timeoutSeconds: QUERY_SECONDS + 30 };

test(`a ${QUERY_SECONDS} s query with a progress token streams progress to both eras' clients and completes past their 60 s timeout`, { timeout: (QUERY_SECONDS + 60) * 1000 }, async () => {
  kusto.setQueryDelay(QUERY_SECONDS * 1000, 2);
  const modernTypes: string[] = [];
  const modern = new ClientV2({ name: 'long-v2', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await modern.connect(new TransportV2(new URL(server.mcpUrl), { fetch: recordingFetch(modernTypes) }));
  const legacy = new ClientV1({ name: 'long-v1', version: '1' });
  await legacy.connect(new TransportV1(new URL(server.mcpUrl)));

  const progress = { modern: [] as number[], legacy: [] as number[] };
  const started = Date.now();
  // The SDK's default 60 s request timeout applies; progress resets it, as clients are told to configure.
  const [modernResult, legacyResult] = await Promise.all([
    modern.callTool({ name: 'kusto_query', arguments: longQuery }, { onprogress: () => progress.modern.push(Date.now()), resetTimeoutOnProgress: true }),
    legacy.callTool({ name: 'kusto_query', arguments: longQuery }, undefined, { onprogress: () => progress.legacy.push(Date.now()), resetTimeoutOnProgress: true }),
  ]);
  const elapsed = (Date.now() - started) / 1000;
  await Promise.all([modern.close(), legacy.close()]);

  assert.ok(elapsed >= QUERY_SECONDS, `the query really ran ${elapsed} s`);
  for (const [era, result] of [['2026-07-28', modernResult], ['2025-11-25', legacyResult]] as const) {
    assert.notEqual(result.isError, true, `${era}: ${JSON.stringify(result.content)}`);
    assert.equal((result.structuredContent as { truncated: boolean }).truncated, false);
  }
  assert.ok(modernTypes.includes('text/event-stream'), `the 2026-07-28 answer came as an event stream: ${modernTypes.join(', ')}`);
  for (const [era, times] of Object.entries(progress)) {
    assert.ok(times.length >= QUERY_SECONDS / 10, `${era}: ${times.length} progress notifications in ${QUERY_SECONDS} s`);
    const gaps = times.slice(1).map((time, i) => time - times[i]!);
    assert.ok(Math.max(...gaps, times[0]! - started) <= 10_000, `${era}: progress at least every 10 s (largest gap ${Math.max(...gaps)} ms)`);
  }
});

test('closing the stream (a 2026-07-28 client giving up) cancels the query on the cluster', { timeout: 30_000 }, async () => {
  kusto.setQueryDelay(Number.POSITIVE_INFINITY, 1);
  const client = new ClientV2({ name: 'cancel-v2', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await client.connect(new TransportV2(new URL(server.mcpUrl)));
  const controller = new AbortController();
  const pending = client.callTool({ name: 'kusto_query', arguments: longQuery }, { signal: controller.signal, onprogress: () => undefined }).catch((error: unknown) => error);
  await waitFor('the query to reach the cluster', () => kusto.runningQueries().length === 1);
  const [running] = kusto.runningQueries();
  controller.abort();
  assert.ok((await pending) instanceof Error, 'the client gave up');
  await waitFor('.cancel query', () => kusto.cancellations.length > 0);
  assert.equal(kusto.cancellations[0]?.clientRequestId, running);
  assert.equal(kusto.cancellations[0]?.wasRunning, true);
  await client.close();
});

test('notifications/cancelled (2025 era) cancels the query on the cluster while its stream stays open', { timeout: 30_000 }, async () => {
  kusto.setQueryDelay(Number.POSITIVE_INFINITY, 1);
  const headers = { ...MCP_HEADERS, 'mcp-protocol-version': '2025-11-25' };
  const call = await fetch(server.mcpUrl, {
    method: 'POST',
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', id: 'q-1', method: 'tools/call', params: { name: 'kusto_query', arguments: longQuery, _meta: { progressToken: 'p' } } }),
  });
  assert.equal(call.headers.get('content-type'), 'text/event-stream');
  await waitFor('the query to reach the cluster', () => kusto.runningQueries().length === 1);
  const [running] = kusto.runningQueries();
  const cancel = await fetch(server.mcpUrl, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'q-1', reason: 'stop' } }) });
  assert.equal(cancel.status, 202);
  await waitFor('.cancel query', () => kusto.cancellations.length > 0);
  assert.equal(kusto.cancellations[0]?.clientRequestId, running, 'the cancel named the running query');
  // The call's own stream was never closed by the client: the cancel came from the notification.
  const text = await call.text();
  assert.match(text, /"id":"q-1"/);
});
