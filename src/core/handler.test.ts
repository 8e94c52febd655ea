import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApp } from '../app.ts';
import { loadConfig } from '../config.ts';
import { memorySink } from '../../test/support/memory-sink.ts';
import { MCP_URL, mcpPost, rpc } from '../../test/support/mcp-request.ts';

function setup(env: Record<string, string> = {}) {
  const sink = memorySink();
  const app = createApp(loadConfig(env), { auditSink: sink });
  const send = async (request: Request) => {
    const response = await app.fetch(request);
    const text = await response.text();
    return { response, status: response.status, text, json: text ? JSON.parse(text) : undefined };
  };
  const audit = async () => {
    await app.auditor.flush();
    return sink.events;
  };
  return { app, send, audit };
}

const initialize = (protocolVersion = '2025-06-18') =>
  rpc('initialize', { protocolVersion, capabilities: {}, clientInfo: { name: 'test', version: '1' } });

test('GET /health is anonymous and makes no backend call', async () => {
  const { send } = setup();
  const { status, json, response } = await send(new Request('http://h/health'));
  assert.equal(status, 200);
  assert.deepEqual(Object.keys(json), ['status', 'name', 'version']);
  assert.equal(response.headers.get('cache-control'), 'no-store');
});

test('GET and DELETE /mcp are 405 with Allow; unknown paths 404', async () => {
  const { send } = setup();
  for (const method of ['GET', 'DELETE', 'PUT']) {
    const { status, response } = await send(new Request(MCP_URL, { method }));
    assert.equal(status, 405);
    assert.equal(response.headers.get('allow'), 'POST');
  }
  assert.equal((await send(new Request('http://h/other'))).status, 404);
});

test('initialize negotiates the protocol version like the SDK', async () => {
  const { send } = setup();
  for (const version of ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05']) {
    const { json } = await send(mcpPost(initialize(version)));
    assert.equal(json.result.protocolVersion, version);
    assert.deepEqual(json.result.capabilities, { tools: { listChanged: false } });
  }
  const { json } = await send(mcpPost(initialize('1999-01-01')));
  assert.equal(json.result.protocolVersion, '2025-11-25');
  const bad = await send(mcpPost(rpc('initialize', {})));
  assert.equal(bad.json.error.code, -32602);
});

test('tools/list returns the catalog with JSON Schemas and annotations', async () => {
  const { send } = setup();
  const { json, response } = await send(mcpPost(rpc('tools/list', {}, 7), { 'mcp-protocol-version': '2025-06-18' }));
  assert.equal(json.id, 7);
  assert.equal(response.headers.get('content-type'), 'application/json');
  const tool = json.result.tools.find((t: { name: string }) => t.name === 'server_info_get');
  assert.equal(tool.inputSchema.type, 'object');
  assert.equal(tool.annotations.readOnlyHint, true);
  assert.ok(tool.outputSchema);
});

test('tools/call runs the tool, returns structured content and audits the call', async () => {
  const { send, audit } = setup();
  const { json } = await send(
    mcpPost(rpc('tools/call', { name: 'server_info_get', arguments: {} }, 'a'), { 'mcp-protocol-version': '2025-11-25', 'user-agent': 'ua/1' }),
  );
  assert.equal(json.result.isError, undefined);
  assert.equal(json.result.structuredContent.protocolVersion, '2025-11-25');
  assert.equal(json.result.audit, undefined, 'audit details never reach the client');
  const [event] = await audit();
  assert.equal(event?.name, 'mcp.tool.call');
  assert.equal(event?.properties.tool, 'server_info_get');
  assert.equal(event?.properties.outcome, 'success');
  assert.equal(event?.properties.userAgent, 'ua/1');
  assert.equal(event?.properties.jsonRpcId, 'a');
  assert.ok((event?.measurements.resultBytes ?? 0) > 100);
  assert.equal(event?.properties.requestId, json.result.structuredContent.requestId);
});

test('tool failures are isError results with a next step, and audited as errors', async () => {
  const { send, audit } = setup();
  const unknown = await send(mcpPost(rpc('tools/call', { name: 'kusto_drop_everything', arguments: {} })));
  assert.equal(unknown.json.result.isError, true);
  assert.match(unknown.json.result.content[0].text, /Unknown tool .* Available tools: server_info_get/);
  const invalid = await send(mcpPost(rpc('tools/call', { name: 'server_info_get', arguments: { extra: 1 } })));
  assert.equal(invalid.json.result.isError, true);
  assert.match(invalid.json.result.content[0].text, /Invalid arguments for server_info_get/);
  const events = await audit();
  assert.deepEqual(
    events.map((e) => [e.properties.outcome, e.properties.errorClass]),
    [
      ['error', 'unknown_tool'],
      ['error', 'invalid_arguments'],
    ],
  );
});

test('a traceparent header becomes the request id, joining the caller trace', async () => {
  const { send } = setup();
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const { json, response } = await send(
    mcpPost(rpc('tools/call', { name: 'server_info_get' }), { traceparent: `00-${traceId}-00f067aa0ba902b7-01` }),
  );
  assert.equal(json.result.structuredContent.requestId, traceId);
  assert.equal(response.headers.get('x-request-id'), traceId);
});

test('notifications and client responses get 202 with no body', async () => {
  const { send } = setup();
  const { status, text } = await send(mcpPost({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  assert.equal(status, 202);
  assert.equal(text, '');
  assert.equal((await send(mcpPost({ jsonrpc: '2.0', id: 3, result: {} }))).status, 202);
});

test('unknown methods and ping', async () => {
  const { send } = setup();
  assert.equal((await send(mcpPost(rpc('resources/list')))).json.error.code, -32601);
  assert.deepEqual((await send(mcpPost(rpc('ping', undefined, 9)))).json, { jsonrpc: '2.0', id: 9, result: {} });
});

test('malformed requests are refused with JSON-RPC errors and audited', async () => {
  const { send, audit } = setup();
  const cases: Array<[Request, number, number | undefined, string]> = [
    [mcpPost('{"jsonrpc":'), 400, -32700, 'parse_error'],
    [mcpPost({ jsonrpc: '1.0', id: 1, method: 'ping' }), 400, -32600, 'invalid_request'],
    [mcpPost(rpc('ping'), { accept: 'application/json' }), 406, -32000, 'not_acceptable'],
    [mcpPost(rpc('ping'), { 'content-type': 'text/plain' }), 415, -32000, 'unsupported_media_type'],
    [mcpPost(rpc('ping'), { 'mcp-protocol-version': '2023-01-01' }), 400, -32000, 'unsupported_protocol_version'],
  ];
  for (const [request, status, code] of cases) {
    const result = await send(request);
    assert.equal(result.status, status, result.text);
    assert.equal(result.json.error.code, code);
    assert.equal(result.json.id, null);
  }
  const events = await audit();
  assert.deepEqual(
    events.map((e) => [e.name, e.properties.errorClass]),
    cases.map(([, , , reason]) => ['mcp.request.rejected', reason]),
  );
});

test('a body over the limit is 413 without reading it all', async () => {
  const { send } = setup({ MCP_MAX_BODY_BYTES: '1024' });
  const big = JSON.stringify(rpc('ping', { pad: 'x'.repeat(2048) }));
  assert.equal((await send(mcpPost(big))).status, 413);
  // Without Content-Length (a stream) the cap still holds.
  const stream = new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(big));
      controller.close();
    },
  });
  const request = new Request(MCP_URL, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: stream,
    duplex: 'half',
  } as RequestInit);
  assert.equal((await send(request)).status, 413);
});

test('batches follow the negotiated protocol version', async () => {
  const { send } = setup();
  const batch = [rpc('ping', undefined, 1), { jsonrpc: '2.0', method: 'notifications/x' }, rpc('nope', undefined, 2), { bad: true }];
  const old = await send(mcpPost(batch, { 'mcp-protocol-version': '2025-03-26' }));
  assert.equal(old.status, 200);
  assert.deepEqual(
    old.json.map((r: { id: unknown; error?: { code: number } }) => [r.id, r.error?.code]),
    [
      [1, undefined],
      [2, -32601],
      [null, -32600],
    ],
  );
  const current = await send(mcpPost(batch, { 'mcp-protocol-version': '2025-06-18' }));
  assert.equal(current.status, 400);
  assert.match(current.json.error.message, /batches are not supported in MCP protocol version 2025-06-18/);
  assert.equal((await send(mcpPost([], { 'mcp-protocol-version': '2025-03-26' }))).status, 400);
  assert.equal((await send(mcpPost([initialize('2025-03-26')]))).status, 400);
});

test('Origin: foreign origins are 403 (DNS rebinding), loopback and configured ones pass with CORS', async () => {
  const { send, audit } = setup({ MCP_ALLOWED_ORIGINS: 'https://portal.example.com' });
  const foreign = await send(mcpPost(rpc('ping'), { origin: 'http://evil.example' }));
  assert.equal(foreign.status, 403);
  const [event] = await audit();
  assert.equal(event?.properties.errorClass, 'origin_not_allowed');
  assert.equal(event?.properties.outcome, 'denied');
  for (const origin of ['https://portal.example.com', 'http://localhost:6274', 'http://127.0.0.1:5173']) {
    const ok = await send(mcpPost(rpc('ping'), { origin }));
    assert.equal(ok.status, 200, origin);
    assert.equal(ok.response.headers.get('access-control-allow-origin'), origin);
  }
  const preflight = await send(new Request(MCP_URL, { method: 'OPTIONS', headers: { origin: 'https://portal.example.com' } }));
  assert.equal(preflight.status, 204);
  assert.match(preflight.response.headers.get('access-control-allow-headers') ?? '', /mcp-protocol-version/);
});

test('easyAuth mode: requests without the platform principal are 401; the principal reaches tools', async () => {
  const { send, audit } = setup({ MCP_AUTH_MODE: 'easyAuth' });
  assert.equal((await send(mcpPost(rpc('ping')))).status, 401);
  const principal = Buffer.from(
    JSON.stringify({ auth_typ: 'aad', claims: [{ typ: 'http://schemas.microsoft.com/identity/claims/tenantid', val: 'tenant-1' }, { typ: 'appid', val: 'client-app' }] }),
  ).toString('base64');
  const { json } = await send(
    mcpPost(rpc('tools/call', { name: 'server_info_get' }), {
      'x-ms-client-principal-id': 'oid-1',
      'x-ms-client-principal-name': 'ada@contoso.com',
      'x-ms-client-principal-idp': 'aad',
      'x-ms-client-principal': principal,
    }),
  );
  assert.deepEqual(json.result.structuredContent.caller, { objectId: 'oid-1', tenantId: 'tenant-1', name: 'ada@contoso.com', appId: 'client-app' });
  const events = await audit();
  assert.equal(events[0]?.properties.errorClass, 'unauthenticated');
  assert.equal(events[1]?.properties.callerObjectId, 'oid-1');
  assert.equal(events[1]?.properties.callerTenantId, 'tenant-1');
});

test('in functionKey mode client-sent principal headers are ignored', async () => {
  const { send } = setup();
  const { json } = await send(mcpPost(rpc('tools/call', { name: 'server_info_get' }), { 'x-ms-client-principal-id': 'spoofed' }));
  assert.deepEqual(json.result.structuredContent.caller, {});
});

test('read-only mode hides write tools and refuses them as denied', async () => {
  const { createDispatcher } = await import('./dispatch.ts');
  const { buildToolCatalog } = await import('../tools/catalog.ts');
  const { defineTool } = await import('../tools/define-tool.ts');
  const { z } = await import('zod');
  const writer = defineTool({
    name: 'test_item_delete',
    title: 'Delete',
    description: 'Deletes.',
    toolset: 'server',
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    input: z.object({ confirmation: z.string() }),
    sensitiveArguments: ['confirmation'],
    handler: async () => ({ content: [] }),
  });
  const catalog = buildToolCatalog({ toolsets: [], readOnly: true }, [writer]);
  assert.equal(JSON.parse(catalog.listResultJson).tools.length, 0);
  const sink = memorySink();
  const { createAuditor } = await import('../audit/auditor.ts');
  const auditor = createAuditor({ sink });
  const dispatcher = createDispatcher({ catalog, services: {}, auditor, server: { name: 's', version: '1', authMode: 'functionKey', readOnly: true, toolsets: [], toolNames: [] } });
  const controller = new AbortController();
  const response = JSON.parse(
    (await dispatcher.dispatch(rpc('tools/call', { name: 'test_item_delete', arguments: { confirmation: 'CONFIRM-SECRET' } }), {
      caller: { authMode: 'functionKey' },
      requestId: 'r',
      protocolVersion: '2025-06-18',
      userAgent: undefined,
      signal: controller.signal,
    })) ?? '',
  );
  assert.match(response.result.content[0].text, /read-only mode/);
  await auditor.flush();
  assert.equal(sink.events[0]?.properties.outcome, 'denied');
  assert.equal(sink.events[0]?.properties.readOnly, 'false');
  assert.ok(!sink.events[0]?.properties.arguments?.includes('CONFIRM-SECRET'), 'a disabled tool keeps its sensitive arguments redacted');
});
