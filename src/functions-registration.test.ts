import { test } from 'node:test';
import assert from 'node:assert/strict';
import functions, { type HttpFunctionOptions, type HttpResponseInit } from '@azure/functions';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';
import { registerFunctions, type FunctionsRegistrar } from './functions-registration.ts';
import { memorySink } from '../test/support/memory-sink.ts';

// @azure/functions is CommonJS without static named exports.
const { HttpRequest, InvocationContext } = functions;

function register(env: Record<string, string> = {}) {
  const registrations = new Map<string, HttpFunctionOptions>();
  const terminateHooks: Array<() => unknown> = [];
  const registrar = {
    http: (name: string, options: HttpFunctionOptions) => void registrations.set(name, options),
    hook: { appTerminate: (hook: () => unknown) => void terminateHooks.push(hook) },
  } as unknown as FunctionsRegistrar;
  const config = loadConfig(env);
  const sink = memorySink();
  registerFunctions(registrar, createApp(config, { auditSink: sink }), config.authMode);
  return { registrations, terminateHooks, sink };
}

async function invoke(options: HttpFunctionOptions | undefined, init: ConstructorParameters<typeof functions.HttpRequest>[0]) {
  assert.ok(options);
  const result = (await options.handler(new HttpRequest(init), new InvocationContext({ functionName: 'mcp' }))) as HttpResponseInit;
  const body = result.body instanceof Uint8Array ? Buffer.from(result.body).toString('utf8') : '';
  return { ...result, text: body };
}

test('registers /mcp with the auth level of the auth mode and an anonymous /health', () => {
  const keyed = register().registrations;
  assert.equal(keyed.get('mcp')?.route, 'mcp');
  assert.equal(keyed.get('mcp')?.authLevel, 'function');
  assert.deepEqual(keyed.get('mcp')?.methods, ['GET', 'POST', 'DELETE', 'OPTIONS']);
  assert.equal(keyed.get('health')?.authLevel, 'anonymous');
  assert.equal(register({ MCP_AUTH_MODE: 'easyAuth' }).registrations.get('mcp')?.authLevel, 'anonymous');
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
  assert.equal((response.headers as Record<string, string>)['content-type'], 'application/json');
  assert.match(response.text, /"name":"server_info_get"/);

  const notAllowed = await invoke(registrations.get('mcp'), { method: 'GET', url: 'https://app.azurewebsites.net/mcp' });
  assert.equal(notAllowed.status, 405);
  assert.equal((notAllowed.headers as Record<string, string>).allow, 'POST');

  const health = await invoke(registrations.get('health'), { method: 'GET', url: 'https://app.azurewebsites.net/health' });
  assert.equal(health.status, 200);
  assert.match(health.text, /"status":"ok"/);
});

test('Easy Auth principal headers pass through the adapter to the caller identity', async () => {
  const { registrations, sink, terminateHooks } = register({ MCP_AUTH_MODE: 'easyAuth' });
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
