import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, MCP_HEADERS, startServerProcess, type ServerProcess } from '../support/server-process.ts';

let server: ServerProcess;
before(async () => {
  server = await startServerProcess({});
});
after(async () => {
  await server.stop();
});

test('the official MCP client initializes, lists and calls tools', async () => {
  const client = await connectClient(server.mcpUrl);
  assert.equal(client.getServerVersion()?.name, 'azure-mcp-functions');
  assert.deepEqual(client.getServerCapabilities(), { tools: { listChanged: false } });
  const { tools } = await client.listTools();
  assert.ok(tools.some((tool) => tool.name === 'server_info_get'));
  const result = await client.callTool({ name: 'server_info_get', arguments: {} });
  assert.equal(result.isError, undefined);
  const info = result.structuredContent as { protocolVersion: string; readOnly: boolean };
  assert.equal(info.protocolVersion, '2025-11-25', 'the SDK client negotiates the latest version');
  assert.equal(info.readOnly, true);
  const unknown = await client.callTool({ name: 'no_such_tool_here', arguments: {} });
  assert.equal(unknown.isError, true);
  await client.close();
});

test('an older protocol version is negotiated and used', async () => {
  const response = await fetch(server.mcpUrl, {
    method: 'POST',
    headers: MCP_HEADERS,
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'old', version: '0' } } }),
  });
  assert.equal((await response.json()).result.protocolVersion, '2025-03-26');
});

test('GET /mcp is 405, a 2 MB body is 413, broken JSON is a JSON-RPC parse error', async () => {
  const get = await fetch(server.mcpUrl);
  assert.equal(get.status, 405);
  assert.equal(get.headers.get('allow'), 'POST');
  const big = await fetch(server.mcpUrl, { method: 'POST', headers: MCP_HEADERS, body: 'x'.repeat(2 * 1024 * 1024) });
  assert.equal(big.status, 413);
  const broken = await fetch(server.mcpUrl, { method: 'POST', headers: MCP_HEADERS, body: '{"jsonrpc":"2.0","id":1,' });
  assert.equal(broken.status, 400);
  assert.deepEqual(await broken.json(), { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error: Invalid JSON' }, id: null });
  const health = await fetch(`${server.baseUrl}/health`);
  assert.equal(health.status, 200);
});

test('concurrent requests are independent: 64 clients at once, every answer matches its request', async () => {
  const calls = Array.from({ length: 64 }, async (_, i) => {
    const response = await fetch(server.mcpUrl, {
      method: 'POST',
      headers: { ...MCP_HEADERS, 'mcp-protocol-version': i % 2 ? '2025-06-18' : '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', id: `call-${i}`, method: 'tools/call', params: { name: 'server_info_get', arguments: {} } }),
    });
    const body = await response.json();
    return { i, status: response.status, body };
  });
  for (const { i, status, body } of await Promise.all(calls)) {
    assert.equal(status, 200);
    assert.equal(body.id, `call-${i}`);
    assert.equal(body.result.structuredContent.protocolVersion, i % 2 ? '2025-06-18' : '2025-11-25');
  }
  // And SDK clients side by side, each with its own initialize.
  const clients = await Promise.all(Array.from({ length: 8 }, (_, i) => connectClient(server.mcpUrl, `client-${i}`)));
  const lists = await Promise.all(clients.map((client) => client.listTools()));
  assert.ok(lists.every((list) => list.tools.length === lists[0]?.tools.length));
  await Promise.all(clients.map((client) => client.close()));
});

test('audit events reach stdout as JSON lines when Application Insights is not configured', async () => {
  await fetch(server.mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, origin: 'http://evil.example' }, body: '{}' });
  const rejectionLogged = () => server.stdout().includes('"errorClass":"origin_not_allowed"');
  for (let waited = 0; !rejectionLogged() && waited < 5000; waited += 25) await new Promise((resolve) => setTimeout(resolve, 25));
  const lines = server.stdout().trim().split('\n').map((line) => JSON.parse(line));
  assert.ok(lines.some((line) => line.event === 'mcp.tool.call' && line.tool === 'server_info_get'));
  assert.ok(lines.some((line) => line.event === 'mcp.request.rejected' && line.errorClass === 'origin_not_allowed'));
});
