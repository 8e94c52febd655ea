import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApp } from '../app.ts';
import { loadConfig, nodeHostAuthProblem } from '../config.ts';
import { memorySink } from '../../test/support/memory-sink.ts';
import { modernPost } from '../../test/support/mcp-request.ts';

const KEY = 'a-local-functions-key-0123456789';
const call = (headers: Record<string, string> = {}, url?: string) => {
  const request = modernPost('tools/call', { name: 'server_info_get', arguments: {} }, { headers });
  return url ? new Request(url, { method: 'POST', headers: request.headers, body: request.body, duplex: 'half' } as RequestInit) : request;
};

function keyedApp() {
  const sink = memorySink();
  const app = createApp(loadConfig({ MCP_AUTH_MODE: 'functionKey' }), { auditSink: sink, functionKey: KEY });
  return { app, sink };
}

test('functionKey on the Node host: no key or a wrong key is 401 and audited; the key in the header or ?code= is admitted', async () => {
  const { app, sink } = keyedApp();
  assert.equal((await app.fetch(call())).status, 401);
  assert.equal((await app.fetch(call({ 'x-functions-key': 'wrong-key-wrong-key-wrong' }))).status, 401);
  assert.equal((await app.fetch(call({ 'x-functions-key': KEY }))).status, 200);
  assert.equal((await app.fetch(call({}, `http://127.0.0.1:7071/mcp?code=${KEY}`))).status, 200);
  await app.auditor.flush();
  const rejected = sink.events.filter((event) => event.name === 'mcp.request.rejected');
  assert.deepEqual(rejected.map((event) => event.properties.errorClass), ['no_function_key', 'invalid_function_key']);
  assert.equal(sink.events.filter((event) => event.name === 'mcp.tool.call').length, 2);
  assert.ok(!JSON.stringify(sink.events).includes(KEY), 'the key is never audited');
});

test('the Node host refuses to start in modes it cannot enforce', () => {
  const loopback = { port: 7071, hostname: '127.0.0.1', loopback: true };
  const exposed = { port: 7071, hostname: '0.0.0.0', loopback: false };
  assert.equal(nodeHostAuthProblem('none', loopback), undefined);
  assert.match(nodeHostAuthProblem('none', exposed) ?? '', /none, which admits anyone: allowed only when HOST is loopback/);
  assert.match(nodeHostAuthProblem('functionKey', loopback) ?? '', /set MCP_FUNCTION_KEY/);
  assert.equal(nodeHostAuthProblem('functionKey', { ...exposed, functionKey: KEY }), undefined);
});

test('none is refused on App Service, and easyAuth anywhere but App Service with authentication on', () => {
  assert.throws(() => loadConfig({ MCP_AUTH_MODE: 'none', WEBSITE_SITE_NAME: 'func-x' }), /MCP_AUTH_MODE is none on App Service/);
  assert.throws(() => loadConfig({ MCP_AUTH_MODE: 'easyAuth' }), /only works on App Service with authentication enabled/);
  assert.throws(() => loadConfig({ MCP_AUTH_MODE: 'easyAuth', WEBSITE_SITE_NAME: 'func-x' }), /WEBSITE_AUTH_ENABLED is not True/);
  assert.equal(loadConfig({ MCP_AUTH_MODE: 'easyAuth', WEBSITE_SITE_NAME: 'func-x', WEBSITE_AUTH_ENABLED: 'True' }).authMode, 'easyAuth');
  assert.throws(() => loadConfig({ MCP_AUTH_MODE: 'entra' }), /ENTRA_TENANT_ID is required/);
});

const ENTRA = {
  MCP_AUTH_MODE: 'entra',
  ENTRA_TENANT_ID: '00000000-0000-4000-8000-0000000e7a17',
  ENTRA_API_CLIENT_ID: '00000000-0000-4000-8000-00000000a9a1',
  MCP_PUBLIC_URL: 'https://func-mcp.azurewebsites.net/mcp',
};

test('MCP_ALLOW_ANONYMOUS_TOOLS_LIST: the listing without a token, never a tool call', async () => {
  const app = createApp(loadConfig({ ...ENTRA, MCP_ALLOW_ANONYMOUS_TOOLS_LIST: 'true' }), { auditSink: memorySink() });
  const listed = await app.fetch(modernPost('tools/list'));
  assert.equal(listed.status, 200);
  assert.ok(((await listed.json()) as { result: { tools: unknown[] } }).result.tools.length > 0);
  const called = await app.fetch(call());
  assert.equal(called.status, 401);
  assert.match(called.headers.get('www-authenticate') ?? '', /^Bearer resource_metadata="https:\/\/func-mcp\.azurewebsites\.net\/\.well-known\/oauth-protected-resource\/mcp"/);
  const strict = createApp(loadConfig(ENTRA), { auditSink: memorySink() });
  assert.equal((await strict.fetch(modernPost('tools/list'))).status, 401, 'off by default');
});
