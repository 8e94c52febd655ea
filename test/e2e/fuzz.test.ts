import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MCP_HEADERS, startServerProcess, type ServerProcess } from '../support/server-process.ts';

/**
 * Property: whatever arrives at /mcp (random bodies, JSON-RPC-shaped or not,
 * random headers), the server answers without a 5xx and keeps answering.
 */
let server: ServerProcess;
before(async () => {
  server = await startServerProcess({ MCP_MAX_BODY_BYTES: '65536' });
});
after(async () => {
  await server.stop();
});

const jsonRpcish = fc.record(
  {
    jsonrpc: fc.oneof(fc.constant('2.0'), fc.string()),
    id: fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.double()),
    method: fc.oneof(fc.constantFrom('initialize', 'tools/list', 'tools/call', 'ping', 'notifications/initialized', 'resources/list'), fc.string()),
    params: fc.oneof(
      fc.constant(undefined),
      fc.jsonValue(),
      fc.record({ name: fc.oneof(fc.constant('server_info_get'), fc.string()), arguments: fc.jsonValue() }, { requiredKeys: [] }),
      fc.record({ protocolVersion: fc.oneof(fc.constant('2025-06-18'), fc.string()), capabilities: fc.jsonValue(), clientInfo: fc.jsonValue() }, { requiredKeys: [] }),
    ),
  },
  { requiredKeys: [] },
);

const body = fc.oneof(
  fc.string({ maxLength: 2000 }),
  fc.jsonValue().map((value) => JSON.stringify(value)),
  jsonRpcish.map((message) => JSON.stringify(message)),
  fc.array(jsonRpcish, { maxLength: 120 }).map((batch) => JSON.stringify(batch)),
  fc.uint8Array({ maxLength: 3000 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
  fc.nat({ max: 80_000 }).map((size) => 'x'.repeat(size)),
);

const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,64}$/);
const headers = fc.record(
  {
    'content-type': fc.oneof(fc.constant('application/json'), fc.constant('application/json; charset=utf-8'), headerValue),
    accept: fc.oneof(fc.constant(MCP_HEADERS.accept), headerValue),
    'mcp-protocol-version': fc.oneof(fc.constantFrom('2025-03-26', '2025-06-18', '2025-11-25'), headerValue),
    origin: fc.oneof(fc.constant('http://localhost:6274'), fc.constant('null'), headerValue),
    traceparent: headerValue,
    'x-ms-client-principal': headerValue,
  },
  { requiredKeys: [] },
);

test('1,000+ random requests: never a 5xx, and the server still answers', async () => {
  let count = 0;
  await fc.assert(
    fc.asyncProperty(body, headers, fc.constantFrom('POST', 'POST', 'POST', 'GET', 'DELETE', 'PUT', 'OPTIONS', 'PATCH'), async (payload, extra, method) => {
      count++;
      const response = await fetch(server.mcpUrl, {
        method,
        headers: extra,
        ...(method !== 'GET' && { body: payload }),
      });
      await response.arrayBuffer();
      return response.status < 500;
    }),
    { numRuns: 1200, seed: Number(process.env.FUZZ_SEED ?? 20261122) },
  );
  assert.ok(count >= 1000);
  const health = await fetch(`${server.baseUrl}/health`);
  assert.equal(health.status, 200);
  const list = await fetch(server.mcpUrl, { method: 'POST', headers: MCP_HEADERS, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
  assert.equal(list.status, 200);
  assert.equal(server.child.exitCode, null, 'the process is still running');
});
