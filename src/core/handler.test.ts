import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { createApp } from '../app.ts';
import { loadConfig } from '../config.ts';
import { ALL_TOOLS } from '../tools/catalog.ts';
import { defineTool } from '../tools/define-tool.ts';
import { memorySink } from '../../test/support/memory-sink.ts';
import { MCP_URL, mcpPost, modernPost, rpc } from '../../test/support/mcp-request.ts';

/** The edge in front of the SDK: health, Origin and CORS, method, caller, body limit, and the audit of refusals. */
function setup(env: Record<string, string> = {}, tools = ALL_TOOLS) {
  const sink = memorySink();
  const app = createApp(loadConfig(env), { auditSink: sink, tools });
  const send = async (request: Request) => {
    const response = await app.fetch(request);
    const text = await response.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { response, status: response.status, text, json };
  };
  const audit = async () => {
    await app.auditor.flush();
    return sink.events;
  };
  return { app, send, audit };
}

const ALLOWED = 'https://portal.example.com';

test('GET /health is anonymous and makes no backend call', async () => {
  const { send } = setup();
  const { status, json, response } = await send(new Request('http://h/health'));
  assert.equal(status, 200);
  assert.deepEqual(Object.keys(json), ['status', 'name', 'version']);
  assert.equal(response.headers.get('cache-control'), 'no-store');
});

test('GET, DELETE and PUT /mcp are 405 with Allow: POST; unknown paths 404', async () => {
  const { send } = setup();
  for (const method of ['GET', 'DELETE', 'PUT']) {
    const { status, response, json } = await send(new Request(MCP_URL, { method }));
    assert.equal(status, 405);
    assert.equal(response.headers.get('allow'), 'POST');
    assert.equal(json.error.code, -32000);
  }
  assert.equal((await send(new Request('http://h/other'))).status, 404);
});

test('a foreign Origin is 403, audited, and gets no CORS headers (nor does the null origin)', async () => {
  const { send, audit } = setup({ MCP_ALLOWED_ORIGINS: ALLOWED });
  for (const origin of ['http://evil.example', 'null', 'https://portal.example.com.evil.example']) {
    const refused = await send(mcpPost(rpc('ping'), { origin }));
    assert.equal(refused.status, 403, origin);
    assert.equal(refused.response.headers.get('access-control-allow-origin'), null, `${origin} must not be echoed`);
    const preflight = await send(new Request(MCP_URL, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } }));
    assert.equal(preflight.status, 403);
    assert.equal(preflight.response.headers.get('access-control-allow-origin'), null);
  }
  const events = await audit();
  assert.equal(events.length, 6);
  assert.ok(events.every((event) => event.properties.errorClass === 'origin_not_allowed' && event.properties.outcome === 'denied'));
});

test('every answer to an allowed origin carries CORS: success, 405, 413, 415, parse errors, SDK refusals', async () => {
  const { send } = setup({ MCP_ALLOWED_ORIGINS: ALLOWED, MCP_MAX_BODY_BYTES: '2048' });
  const origin = { origin: ALLOWED };
  const answers = [
    await send(mcpPost(rpc('tools/list', {}), origin)),
    await send(modernPost('tools/list', {}, { headers: origin })),
    await send(new Request(MCP_URL, { method: 'GET', headers: origin })),
    await send(new Request(MCP_URL, { method: 'DELETE', headers: origin })),
    await send(mcpPost(JSON.stringify(rpc('ping', { pad: 'x'.repeat(4096) })), origin)),
    await send(mcpPost(rpc('ping'), { ...origin, 'content-type': 'text/plain' })),
    await send(mcpPost('{"jsonrpc":', origin)),
    await send(modernPost('tools/list', {}, { headers: { ...origin, 'mcp-method': 'tools/call' } })),
  ];
  assert.deepEqual(
    answers.map((answer) => answer.status),
    [200, 200, 405, 405, 413, 415, 400, 400],
  );
  for (const answer of answers) {
    assert.equal(answer.response.headers.get('access-control-allow-origin'), ALLOWED, `status ${answer.status}`);
    assert.match(answer.response.headers.get('access-control-expose-headers') ?? '', /www-authenticate/);
    assert.match(answer.response.headers.get('access-control-expose-headers') ?? '', /x-request-id/);
    assert.ok(answer.response.headers.get('x-request-id'));
  }
});

test('loopback origins (MCP Inspector in a local browser) pass without configuration', async () => {
  const { send } = setup();
  for (const origin of ['http://localhost:6274', 'http://127.0.0.1:5173', 'http://[::1]:6274']) {
    const ok = await send(mcpPost(rpc('ping'), { origin }));
    assert.equal(ok.status, 200, origin);
    assert.equal(ok.response.headers.get('access-control-allow-origin'), origin);
  }
});

test('the preflight allows what MCP clients send, plus any custom header the client asks for', async () => {
  const { send } = setup({ MCP_ALLOWED_ORIGINS: ALLOWED });
  const preflight = await send(
    new Request(MCP_URL, {
      method: 'OPTIONS',
      headers: { origin: ALLOWED, 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-custom-auth-headers, X-My-Tenant, content-type' },
    }),
  );
  assert.equal(preflight.status, 204);
  const allowed = (preflight.response.headers.get('access-control-allow-headers') ?? '').split(', ');
  for (const name of ['authorization', 'content-type', 'mcp-protocol-version', 'mcp-method', 'mcp-name', 'last-event-id', 'x-functions-key', 'x-custom-auth-headers', 'x-my-tenant']) {
    assert.ok(allowed.includes(name), `${name} in ${allowed.join(', ')}`);
  }
  assert.match(preflight.response.headers.get('access-control-allow-methods') ?? '', /POST/);
  assert.equal(preflight.response.headers.get('access-control-allow-origin'), ALLOWED);
});

test('a body over the limit is 413 without reading it all, with or without Content-Length', async () => {
  const { send, audit } = setup({ MCP_MAX_BODY_BYTES: '1024' });
  const big = JSON.stringify(rpc('ping', { pad: 'x'.repeat(2048) }));
  assert.equal((await send(mcpPost(big))).status, 413);
  let pulled = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled += 1;
      controller.enqueue(new TextEncoder().encode('x'.repeat(512)));
    },
  });
  const request = new Request(MCP_URL, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: endless,
    duplex: 'half',
  } as RequestInit);
  assert.equal((await send(request)).status, 413);
  assert.ok(pulled < 10, `stopped reading after ${pulled} chunks of an endless upload`);
  assert.deepEqual((await audit()).map((e) => e.properties.errorClass), ['body_too_large', 'body_too_large']);
});

test('a request nested thousands of levels deep (a 30 KB body) is refused and audited, never an unaudited error', async () => {
  const { send, audit } = setup();
  let nested = '1';
  for (let i = 0; i < 5000; i++) nested = `{"a":${nested}}`;
  const body = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"kusto_query","arguments":{"query":"T","parameters":${nested}}}}`;
  const result = await send(mcpPost(body));
  assert.equal(result.status, 400);
  assert.equal(result.json.error.code, -32600);
  assert.match(result.json.error.message, /deeper than 64 levels/);
  // Brackets inside strings are not nesting.
  const flat = await send(mcpPost(rpc('tools/call', { name: 'server_info_get', arguments: {}, _meta: { note: '['.repeat(500) } })));
  assert.equal(flat.status, 200);
  const events = await audit();
  assert.deepEqual(events.map((e) => [e.name, e.properties.errorClass]), [['mcp.request.rejected', 'too_deep'], ['mcp.tool.call', undefined]]);
});

test('malformed requests are refused with JSON-RPC errors and audited, whoever answered them', async () => {
  const { send, audit } = setup();
  const cases: Array<[Request, number, number, string]> = [
    [mcpPost('{"jsonrpc":'), 400, -32700, 'parse_error'],
    [mcpPost(rpc('ping'), { 'content-type': 'text/plain' }), 415, -32000, 'unsupported_media_type'],
    [mcpPost(rpc('ping'), { accept: 'application/json' }), 406, -32000, 'not_acceptable'],
    [mcpPost(rpc('ping'), { 'mcp-protocol-version': '2023-01-01' }), 400, -32000, 'unsupported_protocol_version'],
    [modernPost('tools/list', {}, { headers: { 'mcp-method': 'tools/call' } }), 400, -32020, 'header_mismatch'],
    [modernPost('tools/list', {}, { meta: { 'io.modelcontextprotocol/protocolVersion': '2099-01-01' }, headers: { 'mcp-protocol-version': '2099-01-01' } }), 400, -32022, 'unsupported_protocol_version'],
  ];
  for (const [request, status, code] of cases) {
    const result = await send(request);
    assert.equal(result.status, status, result.text);
    assert.equal(result.json.error.code, code, result.text);
  }
  const events = await audit();
  assert.deepEqual(
    events.map((e) => [e.name, e.properties.errorClass, e.properties.statusCode]),
    cases.map(([, status, , reason]) => ['mcp.request.rejected', reason, String(status)]),
  );
});

test('the request id is always our own; a valid traceparent is kept apart as traceId', async () => {
  const { send, audit } = setup();
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const requestIds = new Set<string>();
  // The same traceparent on every request (as a client reusing its trace does): ids stay unique.
  for (let i = 0; i < 5; i++) {
    const { json, response } = await send(mcpPost(rpc('tools/call', { name: 'server_info_get' }, i), { traceparent: `00-${traceId}-00f067aa0ba902b7-01` }));
    const requestId = json.result.structuredContent.requestId;
    assert.match(requestId, /^[0-9a-f]{32}$/);
    assert.notEqual(requestId, traceId);
    assert.equal(response.headers.get('x-request-id'), requestId);
    requestIds.add(requestId);
  }
  assert.equal(requestIds.size, 5);
  // Invalid trace contexts are not kept: all-zero ids, version ff, upper case, junk, a newline.
  for (const traceparent of [`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, `00-${traceId}-${'0'.repeat(16)}-01`, `ff-${traceId}-00f067aa0ba902b7-01`, `00-${traceId.toUpperCase()}-00f067aa0ba902b7-01`, 'x'.repeat(5000)]) {
    await send(mcpPost(rpc('tools/call', { name: 'server_info_get' }, 'invalid'), { traceparent }));
  }
  // A rejected request keeps the trace id too.
  await send(mcpPost('{', { traceparent: `00-${traceId}-00f067aa0ba902b7-01` }));
  const events = await audit();
  assert.equal(events.length, 11);
  assert.deepEqual(events.map((e) => e.properties.traceId), [...Array(5).fill(traceId), ...Array(5).fill(undefined), traceId]);
  assert.equal(new Set(events.map((e) => e.properties.requestId)).size, 11, 'every record has its own request id');
});

test('easyAuth mode: requests without the platform principal are 401; the principal reaches tools', async () => {
  const { send, audit } = setup({ MCP_AUTH_MODE: 'easyAuth', WEBSITE_SITE_NAME: 'func-test', WEBSITE_AUTH_ENABLED: 'True' });
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
  assert.deepEqual(json.result.structuredContent.caller, { objectId: 'oid-1', tenantId: 'tenant-1', upn: 'ada@contoso.com', appId: 'client-app' });
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

test('the instructions only claim attribution where the auth mode gives it', async () => {
  const initialize = rpc('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } });
  const keyed = await setup().send(mcpPost(initialize));
  assert.match(keyed.json.result.instructions, /not attributed to a person/);
  const easy = await setup({ MCP_AUTH_MODE: 'easyAuth', WEBSITE_SITE_NAME: 'func-test', WEBSITE_AUTH_ENABLED: 'True' }).send(mcpPost(initialize, { 'x-ms-client-principal-id': 'oid-1' }));
  assert.match(easy.json.result.instructions, /identity of the signed-in caller/);
});

test('read-only mode hides write tools and refuses them as denied, keeping their sensitive arguments redacted', async () => {
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
  const { send, audit } = setup({}, [...ALL_TOOLS, writer]);
  const list = await send(mcpPost(rpc('tools/list', {})));
  assert.ok(!list.json.result.tools.some((tool: { name: string }) => tool.name === 'test_item_delete'));
  const call = await send(mcpPost(rpc('tools/call', { name: 'test_item_delete', arguments: { confirmation: 'CONFIRM-SECRET' } })));
  assert.match(call.json.result.content[0].text, /read-only mode/);
  const [event] = await audit();
  assert.equal(event?.properties.outcome, 'denied');
  assert.equal(event?.properties.readOnly, 'false');
  assert.ok(!event?.properties.arguments?.includes('CONFIRM-SECRET'));
});
