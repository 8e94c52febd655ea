import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApp } from '../app.ts';
import { loadConfig } from '../config.ts';
import { memorySink } from '../../test/support/memory-sink.ts';
import { probeTools } from '../../test/support/probe-tools.ts';
import { MODERN, envelope, mcpPost, messagesOf, modernPost, rpc } from '../../test/support/mcp-request.ts';

/** Both protocol eras through the one handler: what the SDK answers, and what our edge adds (progress, cancel, audit). */
function setup(env: Record<string, string> = {}) {
  const sink = memorySink();
  const probes = probeTools();
  const app = createApp(loadConfig({ MCP_PROGRESS_INTERVAL_SECONDS: '1', ...env }), { auditSink: sink, tools: probes.tools });
  const audit = async () => {
    await app.auditor.flush();
    return sink.events;
  };
  return { app, audit, probe: probes.control };
}

const initialize = (protocolVersion: string) => rpc('initialize', { protocolVersion, capabilities: {}, clientInfo: { name: 'test', version: '1' } });

test('2025 era: initialize negotiates like the SDK; tools/list and tools/call answer as JSON', async () => {
  const { app } = setup();
  for (const version of ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05']) {
    const [answer] = await messagesOf(await app.fetch(mcpPost(initialize(version))));
    assert.equal(answer?.result.protocolVersion, version);
    assert.deepEqual(answer?.result.capabilities, { tools: { listChanged: false } });
    assert.equal(answer?.result.serverInfo.name, 'azure-mcp-functions');
  }
  const [fallback] = await messagesOf(await app.fetch(mcpPost(initialize('1999-01-01'))));
  assert.equal(fallback?.result.protocolVersion, '2025-11-25');
  const list = await app.fetch(mcpPost(rpc('tools/list', {}, 7), { 'mcp-protocol-version': '2025-06-18' }));
  assert.equal(list.headers.get('content-type'), 'application/json');
  const [listed] = await messagesOf(list);
  assert.equal(listed?.id, 7);
  const info = listed?.result.tools.find((tool: { name: string }) => tool.name === 'server_info_get');
  assert.equal(info.inputSchema.type, 'object');
  assert.equal(info.annotations.readOnlyHint, true);
  assert.equal(listed?.result.ttlMs, undefined, 'no 2026 cache fields on a 2025 answer');
  const [called] = await messagesOf(await app.fetch(mcpPost(rpc('tools/call', { name: 'server_info_get', arguments: {} }), { 'mcp-protocol-version': '2025-11-25' })));
  assert.equal(called?.result.structuredContent.protocolVersion, '2025-11-25');
});

test('2026-07-28: server/discover, results with serverInfo, tools/list with cache hints, no initialize needed', async () => {
  const { app } = setup();
  const [discover] = await messagesOf(await app.fetch(modernPost('server/discover')));
  assert.ok(discover?.result.supportedVersions.includes(MODERN), JSON.stringify(discover));
  assert.deepEqual(discover?.result.capabilities.tools, { listChanged: false });
  const [list] = await messagesOf(await app.fetch(modernPost('tools/list')));
  assert.equal(list?.result.cacheScope, 'public');
  assert.equal(list?.result.ttlMs, 300_000);
  assert.equal(list?.result._meta['io.modelcontextprotocol/serverInfo'].name, 'azure-mcp-functions');
  const [call] = await messagesOf(await app.fetch(modernPost('tools/call', { name: 'server_info_get', arguments: {} })));
  assert.equal(call?.result.structuredContent.protocolVersion, MODERN);
  assert.equal(call?.result.resultType, 'complete');
});

test('protocol errors are the SDK\'s: unknown method, bad params, notifications and responses get 202', async () => {
  const { app } = setup();
  const [unknown] = await messagesOf(await app.fetch(mcpPost(rpc('resources/list'))));
  assert.equal(unknown?.error.code, -32601);
  const [badParams] = await messagesOf(await app.fetch(mcpPost(rpc('tools/call', { name: 'server_info_get', arguments: [] }))));
  assert.equal(badParams?.error.code, -32602, 'arguments must be an object');
  assert.equal((await app.fetch(mcpPost({ jsonrpc: '2.0', method: 'notifications/initialized' }))).status, 202);
  assert.equal((await app.fetch(mcpPost({ jsonrpc: '2.0', id: 3, result: {} }))).status, 202);
});

test('tool calls are audited once each, in both eras, and tool failures are isError results', async () => {
  const { app, audit } = setup();
  await app.fetch(mcpPost(rpc('tools/call', { name: 'server_info_get', arguments: {} }, 'a'), { 'mcp-protocol-version': '2025-11-25', 'user-agent': 'ua/1' }));
  await app.fetch(modernPost('tools/call', { name: 'server_info_get', arguments: {} }, { id: 'b' }));
  const [unknown] = await messagesOf(await app.fetch(mcpPost(rpc('tools/call', { name: 'kusto_drop_everything', arguments: {} }, 'c'))));
  assert.equal(unknown?.result.isError, true);
  assert.match(unknown?.result.content[0].text, /Unknown tool .* Available tools: server_info_get/);
  const [invalid] = await messagesOf(await app.fetch(modernPost('tools/call', { name: 'server_info_get', arguments: { extra: 1 } }, { id: 'd' })));
  assert.equal(invalid?.result.isError, true);
  assert.match(invalid?.result.content[0].text, /Invalid arguments for server_info_get/);
  const events = await audit();
  assert.deepEqual(
    events.map((e) => [e.properties.jsonRpcId, e.properties.outcome, e.properties.errorClass, e.properties.protocolVersion]),
    [
      ['a', 'success', undefined, '2025-11-25'],
      ['b', 'success', undefined, MODERN],
      ['c', 'error', 'unknown_tool', '2025-03-26'],
      ['d', 'error', 'invalid_arguments', MODERN],
    ],
  );
  assert.equal(events[0]?.properties.userAgent, 'ua/1');
  assert.ok((events[0]?.measurements.resultBytes ?? 0) > 100);
});

test('with a progress token a running call streams progress (2025 era), and finishes on the same stream', { timeout: 10_000 }, async () => {
  const { app, probe } = setup();
  const control = probe();
  const pending = app.fetch(mcpPost(rpc('tools/call', { name: 'probe_wait', arguments: {}, _meta: { progressToken: 'p1' } }, 5), { 'mcp-protocol-version': '2025-11-25' }));
  await control.started;
  const response = await pending;
  assert.equal(response.headers.get('content-type'), 'text/event-stream');
  await new Promise((resolve) => setTimeout(resolve, 1200));
  control.release();
  const messages = await messagesOf(response);
  const progress = messages.filter((m) => m.method === 'notifications/progress');
  assert.ok(progress.length >= 2, `a report and at least one heartbeat: ${JSON.stringify(progress)}`);
  assert.ok(progress.every((m) => m.params.progressToken === 'p1'));
  assert.deepEqual(progress.map((m) => m.params.progress), progress.map((_, i) => i + 1), 'progress only grows');
  assert.match(progress[0]?.params.message, /probe started/);
  assert.equal(messages.at(-1)?.id, 5);
  assert.equal(messages.at(-1)?.result.content[0].text, 'released');
});

test('with a progress token a 2026-07-28 call upgrades to an event stream; without one it stays JSON', { timeout: 10_000 }, async () => {
  const { app, probe } = setup();
  const control = probe();
  const pending = app.fetch(modernPost('tools/call', { name: 'probe_wait', arguments: {}, _meta: { progressToken: 9 } }));
  await control.started;
  const response = await pending;
  assert.equal(response.headers.get('content-type'), 'text/event-stream');
  control.release();
  const messages = await messagesOf(response);
  assert.equal(messages[0]?.method, 'notifications/progress');
  assert.equal(messages.at(-1)?.result.content[0].text, 'released');
  const plain = await app.fetch(modernPost('tools/call', { name: 'server_info_get', arguments: {}, _meta: { progressToken: 10 } }));
  assert.equal(plain.headers.get('content-type'), 'application/json', 'a call that reports nothing is answered as JSON');
  const legacyPlain = await app.fetch(mcpPost(rpc('tools/call', { name: 'server_info_get', arguments: {} })));
  assert.equal(legacyPlain.headers.get('content-type'), 'application/json');
});

test('notifications/cancelled aborts the named call of the same caller on this instance', { timeout: 10_000 }, async () => {
  const { app, audit, probe } = setup();
  const control = probe();
  const pending = app.fetch(mcpPost(rpc('tools/call', { name: 'probe_wait', arguments: {} }, 41), { 'mcp-protocol-version': '2025-11-25' }));
  await control.started;
  const cancel = await app.fetch(mcpPost({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 41, reason: 'user pressed stop' } }, { 'mcp-protocol-version': '2025-11-25' }));
  assert.equal(cancel.status, 202);
  assert.equal(await control.outcome, 'aborted');
  await (await pending).text();
  const events = await audit();
  assert.equal(events.length, 1, 'the cancelled call is audited once');
  assert.equal(events[0]?.properties.errorClass, 'cancelled');
});

test('a cancel never reaches another caller\'s call, nor a call whose id is ambiguous', { timeout: 10_000 }, async () => {
  const { app, probe } = setup({ MCP_AUTH_MODE: 'easyAuth', WEBSITE_SITE_NAME: 'func-test', WEBSITE_AUTH_ENABLED: 'True' });
  const as = (oid: string) => ({ 'x-ms-client-principal-id': oid, 'mcp-protocol-version': '2025-11-25' });
  const control = probe();
  const pending = app.fetch(mcpPost(rpc('tools/call', { name: 'probe_wait', arguments: {} }, 7), as('alice')));
  await control.started;
  await app.fetch(mcpPost({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 7 } }, as('mallory')));
  await new Promise((resolve) => setTimeout(resolve, 50));
  control.release();
  assert.equal(await control.outcome, 'released', "mallory's cancel did not touch alice's call");
  await (await pending).text();

  // Two calls of one caller with the same id (two clients of one user): a cancel cannot tell which, so neither stops.
  const { app: shared, probe: sharedProbe } = setup();
  const both = sharedProbe();
  const first = shared.fetch(mcpPost(rpc('tools/call', { name: 'probe_wait', arguments: {} }, 3)));
  const second = shared.fetch(mcpPost(rpc('tools/call', { name: 'probe_wait', arguments: {} }, 3)));
  await both.started;
  await new Promise((resolve) => setTimeout(resolve, 20));
  await shared.fetch(mcpPost({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 3 } }));
  await new Promise((resolve) => setTimeout(resolve, 50));
  both.release();
  assert.equal(await both.outcome, 'released');
  await Promise.all([(await first).text(), (await second).text()]);
});

test('closing the stream cancels a 2026-07-28 call (the spec\'s cancellation over HTTP)', { timeout: 10_000 }, async () => {
  const { app, probe } = setup();
  const control = probe();
  const controller = new AbortController();
  const base = modernPost('tools/call', { name: 'probe_wait', arguments: {}, _meta: { progressToken: 1 } });
  const request = new Request(base, { signal: controller.signal });
  const pending = app.fetch(request);
  await control.started;
  controller.abort();
  assert.equal(await control.outcome, 'aborted');
  await pending.catch(() => undefined);
});

test('input_required: a tool can ask the client for input and is called again with the answer', async () => {
  const { app, audit } = setup();
  const meta = { _meta: envelope({ elicitation: { form: {} } }) };
  const [first] = await messagesOf(await app.fetch(modernPost('tools/call', { name: 'probe_confirm', arguments: { what: 'the deletion' }, ...meta })));
  assert.equal(first?.result.resultType, 'input_required', JSON.stringify(first));
  const request = first?.result.inputRequests.confirm;
  assert.equal(request.method, 'elicitation/create');
  assert.match(request.params.message, /Confirm the deletion/);
  const [second] = await messagesOf(
    await app.fetch(modernPost('tools/call', { name: 'probe_confirm', arguments: { what: 'the deletion' }, inputResponses: { confirm: { action: 'accept', content: { confirm: true } } }, ...meta })),
  );
  assert.equal(second?.result.content[0].text, 'confirmed the deletion');
  const events = await audit();
  assert.deepEqual(events.map((e) => [e.properties.outcome, e.properties.resultType]), [['success', 'input_required'], ['success', undefined]]);
});

test('the tool context says whether this request\'s client can be asked (2026-07-28 form elicitation only)', async () => {
  const { app } = setup();
  const ask = async (request: Request) => (await messagesOf(await app.fetch(request)))[0]?.result.content[0].text;
  const call = { name: 'probe_capabilities', arguments: {} };
  assert.equal(await ask(modernPost('tools/call', { ...call, _meta: envelope({ elicitation: { form: {} } }) })), 'canElicit=true');
  assert.equal(await ask(modernPost('tools/call', { ...call, _meta: envelope({ elicitation: { url: {} } }) })), 'canElicit=false');
  assert.equal(await ask(modernPost('tools/call', call)), 'canElicit=false');
  assert.equal(await ask(mcpPost(rpc('tools/call', call), { 'mcp-protocol-version': '2025-11-25' })), 'canElicit=false');
});
