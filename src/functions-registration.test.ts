import { test } from 'node:test';
import assert from 'node:assert/strict';
import functions, { type HttpFunctionOptions, type HttpResponseInit } from '@azure/functions';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';
import { registerFunctions, type FunctionsRegistrar } from './functions-registration.ts';
import { memorySink } from '../test/support/memory-sink.ts';
import { probeTools } from '../test/support/probe-tools.ts';

// @azure/functions is CommonJS without static named exports.
const { HttpRequest, HttpResponse, InvocationContext } = functions;

function register(env: Record<string, string> = {}, probes = probeTools()) {
  const registrations = new Map<string, HttpFunctionOptions>();
  const terminateHooks: Array<() => unknown> = [];
  const registrar = {
    http: (name: string, options: HttpFunctionOptions) => void registrations.set(name, options),
    hook: { appTerminate: (hook: () => unknown) => void terminateHooks.push(hook) },
  } as unknown as FunctionsRegistrar;
  const config = loadConfig(env);
  const sink = memorySink();
  registerFunctions(registrar, createApp(config, { auditSink: sink, tools: probes.tools }), config.authMode, { oauthFacade: config.auth.facade !== undefined });
  return { registrations, terminateHooks, sink, probe: probes.control };
}

/** Calls the registered handler and wraps its answer in the library's HttpResponse, as the worker does before sending it. */
async function respond(options: HttpFunctionOptions | undefined, init: ConstructorParameters<typeof functions.HttpRequest>[0]) {
  assert.ok(options);
  const result = (await options.handler(new HttpRequest(init), new InvocationContext({ functionName: 'mcp' }))) as HttpResponseInit;
  return new HttpResponse(result);
}

async function invoke(options: HttpFunctionOptions | undefined, init: ConstructorParameters<typeof functions.HttpRequest>[0]) {
  const response = await respond(options, init);
  return { status: response.status, headers: Object.fromEntries(response.headers), text: await response.text() };
}

test('registers /mcp with the auth level of the auth mode and an anonymous /health', () => {
  const keyed = register().registrations;
  assert.equal(keyed.get('mcp')?.route, 'mcp');
  assert.equal(keyed.get('mcp')?.authLevel, 'function');
  assert.deepEqual(keyed.get('mcp')?.methods, ['GET', 'POST', 'DELETE', 'OPTIONS']);
  assert.equal(keyed.get('health')?.authLevel, 'anonymous');
  assert.equal(register({ MCP_AUTH_MODE: 'easyAuth', WEBSITE_SITE_NAME: 'func-test', WEBSITE_AUTH_ENABLED: 'True' }).registrations.get('mcp')?.authLevel, 'anonymous');
});

test('the registered handler serves MCP through the Functions HttpRequest class', async () => {
  const { registrations } = register();
  const response = await invoke(registrations.get('mcp'), {
    method: 'POST',
    url: 'https://app.azurewebsites.net/mcp',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: { string: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) },
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers['content-type'], 'application/json');
  assert.match(response.text, /"name":"server_info_get"/);

  const notAllowed = await invoke(registrations.get('mcp'), { method: 'GET', url: 'https://app.azurewebsites.net/mcp' });
  assert.equal(notAllowed.status, 405);
  assert.equal(notAllowed.headers.allow, 'POST');

  const health = await invoke(registrations.get('health'), { method: 'GET', url: 'https://app.azurewebsites.net/health' });
  assert.equal(health.status, 200);
  assert.match(health.text, /"status":"ok"/);
});

test('Easy Auth principal headers pass through the adapter to the caller identity', async () => {
  const { registrations, sink, terminateHooks } = register({ MCP_AUTH_MODE: 'easyAuth', WEBSITE_SITE_NAME: 'func-test', WEBSITE_AUTH_ENABLED: 'True' });
  const response = await invoke(registrations.get('mcp'), {
    method: 'POST',
    url: 'https://app.azurewebsites.net/mcp',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'x-ms-client-principal-id': '00000000-0000-0000-0000-0000000000aa',
      'x-ms-client-principal-name': 'ada@contoso.com',
      'x-ms-client-principal-idp': 'aad',
    },
    body: { string: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'server_info_get' } }) },
  });
  assert.match(response.text, /"objectId":"00000000-0000-0000-0000-0000000000aa"/);
  assert.equal(response.status, 200);
  await terminateHooks[0]?.();
  assert.equal(sink.events[0]?.properties.callerName, 'ada@contoso.com');
});

test('the terminate hook flushes audit events', async () => {
  const { registrations, terminateHooks, sink } = register();
  await invoke(registrations.get('mcp'), {
    method: 'POST',
    url: 'https://app.azurewebsites.net/mcp',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: { string: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'server_info_get' } }) },
  });
  assert.equal(terminateHooks.length, 1);
  await terminateHooks[0]?.();
  assert.equal(sink.events.length, 1);
  assert.equal(sink.events[0]?.properties.tool, 'server_info_get');
});

test('the terminate hook drains like SIGTERM: new requests get 503, a running call is stopped after the grace, all audited, by MCP_SHUTDOWN_SECONDS', { timeout: 10_000 }, async () => {
  const { registrations, terminateHooks, sink, probe } = register({ MCP_SHUTDOWN_SECONDS: '2' });
  const control = probe();
  const post = (id: number, name: string) => ({
    method: 'POST',
    url: 'https://app.azurewebsites.net/mcp',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: { string: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } }) },
  });
  const running = invoke(registrations.get('mcp'), post(1, 'probe_wait'));
  await control.started;
  const started = Date.now();
  const terminated = Promise.resolve(terminateHooks[0]?.());
  const refused = await invoke(registrations.get('mcp'), post(2, 'server_info_get'));
  assert.equal(refused.status, 503);
  assert.equal(refused.headers['retry-after'], '1');
  assert.equal((await invoke(registrations.get('health'), { method: 'GET', url: 'https://app.azurewebsites.net/health' })).status, 503);
  const stopped = await running;
  assert.equal(stopped.status, 200);
  assert.match(stopped.text, /shutting down/);
  assert.ok(Date.now() - started >= 1000, 'the running call had the grace (half of the 2 s)');
  await terminated;
  assert.ok(Date.now() - started <= 2000 + 100, `the hook resolved ${Date.now() - started} ms after it began`);
  const byName = (name: string) => sink.events.filter((event) => event.name === name).map((event) => event.properties);
  assert.deepEqual(byName('mcp.tool.call').map((p) => [p.jsonRpcId, p.errorClass]), [['1', 'shutdown']]);
  assert.deepEqual(byName('mcp.request.rejected').map((p) => [p.errorClass, p.statusCode]), [['shutting_down', '503']]);
});

test('the adapter streams: progress of a running call leaves through the library\'s HttpResponse before the call ends', { timeout: 10_000 }, async () => {
  const { registrations, probe } = register({ MCP_PROGRESS_INTERVAL_SECONDS: '1' });
  const control = probe();
  const response = await respond(registrations.get('mcp'), {
    method: 'POST',
    url: 'https://app.azurewebsites.net/mcp',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' },
    body: { string: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'probe_wait', arguments: {}, _meta: { progressToken: 't' } } }) },
  });
  assert.equal(response.headers.get('content-type'), 'text/event-stream');
  // The worker's proxy writes each chunk as the body yields it (sendProxyResponse iterates body.values()).
  const chunks = response.body!.values();
  let seen = '';
  while (!seen.includes('notifications/progress')) {
    const next = await chunks.next();
    assert.equal(next.done, false, 'the stream ended before any progress');
    seen += Buffer.from(next.value as Uint8Array).toString('utf8');
  }
  assert.doesNotMatch(seen, /"released"/, 'progress arrived while the call was still running');
  control.release();
  for (let next = await chunks.next(); !next.done; next = await chunks.next()) seen += Buffer.from(next.value as Uint8Array).toString('utf8');
  assert.match(seen, /"text":"released"/);
});

test('the request body reaches the core handler as a stream, so the body limit holds on Functions too', async () => {
  const { registrations } = register({ MCP_MAX_BODY_BYTES: '1024' });
  const tooBig = await invoke(registrations.get('mcp'), {
    method: 'POST',
    url: 'https://app.azurewebsites.net/mcp',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: { string: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(4096) } }) },
  });
  assert.equal(tooBig.status, 413);
});

test('entra mode: /mcp is anonymous to the host (the app validates tokens) and the metadata is served at both well-known routes', async () => {
  const entra = {
    MCP_AUTH_MODE: 'entra',
    ENTRA_TENANT_ID: '00000000-0000-4000-8000-0000000e7a17',
    ENTRA_API_CLIENT_ID: '00000000-0000-4000-8000-00000000a9a1',
    MCP_PUBLIC_URL: 'https://func-mcp.azurewebsites.net/mcp',
  };
  const { registrations } = register(entra);
  assert.equal(registrations.get('mcp')?.authLevel, 'anonymous');
  const bare = registrations.get('protectedResourceMetadata');
  const forPath = registrations.get('protectedResourceMetadataForPath');
  assert.equal(bare?.route, '.well-known/oauth-protected-resource');
  assert.equal(forPath?.route, '.well-known/oauth-protected-resource/{*resourcePath}');
  for (const [options, url] of [
    [bare, 'https://func-mcp.azurewebsites.net/.well-known/oauth-protected-resource'],
    [forPath, 'https://func-mcp.azurewebsites.net/.well-known/oauth-protected-resource/mcp'],
  ] as const) {
    assert.equal(options?.authLevel, 'anonymous');
    const answer = await invoke(options, { url, method: 'GET' });
    assert.equal(answer.status, 200, url);
    assert.equal(JSON.parse(answer.text).resource, 'https://func-mcp.azurewebsites.net/mcp');
  }
  assert.equal(register().registrations.has('protectedResourceMetadata'), false, 'no metadata route without entra');
});

test('entra mode with MCP_OAUTH_FACADE: the facade routes are registered anonymous, and the metadata route serves RFC 8414 through the Functions HttpRequest', async () => {
  const facade = {
    MCP_AUTH_MODE: 'entra',
    ENTRA_TENANT_ID: '00000000-0000-4000-8000-0000000e7a17',
    ENTRA_API_CLIENT_ID: '00000000-0000-4000-8000-00000000a9a1',
    MCP_PUBLIC_URL: 'https://func-mcp.azurewebsites.net/mcp',
    MCP_OAUTH_FACADE: 'true',
    KEY_VAULT_URL: 'https://kv-mcp.vault.azure.net',
  };
  const { registrations } = register(facade);
  const routes = Object.fromEntries([...registrations].map(([name, options]) => [name, [options.route, options.authLevel, options.methods]]));
  assert.deepEqual(routes.oauthAuthorize, ['authorize', 'anonymous', ['GET']]);
  assert.deepEqual(routes.oauthCallback, ['oauth/callback', 'anonymous', ['GET']]);
  assert.deepEqual(routes.oauthToken, ['token', 'anonymous', ['POST', 'OPTIONS']]);
  assert.deepEqual(routes.oauthRegister, ['register', 'anonymous', ['POST', 'OPTIONS']]);
  assert.equal(routes.oauthOpenIdConfiguration?.[0], '.well-known/openid-configuration');
  const metadata = await invoke(registrations.get('oauthAuthorizationServerMetadata'), { url: 'https://func-mcp.azurewebsites.net/.well-known/oauth-authorization-server', method: 'GET' });
  assert.equal(metadata.status, 200);
  const document = JSON.parse(metadata.text) as Record<string, unknown>;
  assert.equal(document.issuer, 'https://func-mcp.azurewebsites.net');
  assert.equal(document.token_endpoint, 'https://func-mcp.azurewebsites.net/token');
  assert.equal(document.authorization_response_iss_parameter_supported, true);
  const prm = await invoke(registrations.get('protectedResourceMetadataForPath'), { url: 'https://func-mcp.azurewebsites.net/.well-known/oauth-protected-resource/mcp', method: 'GET' });
  assert.deepEqual(JSON.parse(prm.text).authorization_servers, ['https://func-mcp.azurewebsites.net'], 'the protected resource names the facade, not Entra');
  assert.equal(register({ ...facade, MCP_OAUTH_FACADE: 'false' }).registrations.has('oauthToken'), false, 'no facade routes when it is off');
});
