import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  discoverAuthorizationServerMetadata,
  discoverOAuthProtectedResourceMetadata,
  extractWWWAuthenticateParams,
} from '@modelcontextprotocol/sdk/client/auth.js';
import { startEmulator, type Emulator } from '../../emulator/server.ts';
import { craftUnsecuredJwt } from '../../emulator/entra.ts';
import { messagesOf, modernPost } from '../support/mcp-request.ts';
import { connectClient, startEntraServerProcess, type ServerProcess } from '../support/server-process.ts';

/**
 * `MCP_AUTH_MODE=entra` through the real server process against the emulated
 * tenant: every bad token refused with the right status and challenge, and
 * audited with its reason; the metadata served at both well-known paths and
 * discovered by the official SDK from a 401; a valid token reaches the tools.
 */
let emulator: Emulator;
let server: ServerProcess & { publicUrl: string };
let publicUrl: string;


before(async () => {
  emulator = await startEmulator();
  server = await startEntraServerProcess(emulator);
  publicUrl = server.publicUrl;
});
after(async () => {
  await server?.stop();
  await emulator?.close();
});

async function callTool(authorization: string | undefined, extraHeaders: Record<string, string> = {}, id = 1) {
  const request = modernPost('tools/call', { name: 'server_info_get', arguments: {} }, { id, headers: { ...(authorization && { authorization }), ...extraHeaders } });
  return fetch(server.mcpUrl, { method: 'POST', headers: request.headers, body: await request.text() });
}

test('every bad token is refused with its status and challenge, and audited with its reason', async () => {
  const entra = emulator.entra;
  const otherTenant = '00000000-0000-4000-8000-0000000e7a99';
  entra.addTenant(otherTenant);
  const now = Math.floor(Date.now() / 1000);
  const valid = await entra.mintApiToken();
  const [header, payload, signature] = valid.split('.');
  const tampered = `${header}.${payload}.${signature?.startsWith('A') ? 'B' : 'A'}${signature?.slice(1)}`;
  const cases: Array<[string, string | undefined, number, string]> = [
    ['no token', undefined, 401, 'no_token'],
    ['alg none', craftUnsecuredJwt({ aud: entra.api.clientId, tid: entra.homeTenantId, scp: 'user_impersonation' }), 401, 'alg_not_allowed'],
    ['HS256 with the public key', await entra.mintApiToken({ alg: 'HS256' }), 401, 'alg_not_allowed'],
    ['wrong audience', await entra.mintApiToken({ aud: '11111111-2222-4333-8444-555555555555' }), 401, 'wrong_audience'],
    ['wrong issuer', await entra.mintApiToken({ iss: 'https://evil.example/v2.0' }), 401, 'wrong_issuer'],
    ['another tenant', await entra.mintApiToken({ tid: otherTenant }), 401, 'tenant_not_allowed'],
    ['expired', await entra.mintApiToken({ exp: now - 3600, nbf: now - 7200, iat: now - 7200 }), 401, 'token_expired'],
    ['nbf in the future', await entra.mintApiToken({ nbf: now + 3600, exp: now + 7200 }), 401, 'token_not_yet_valid'],
    ['tampered signature', tampered, 401, 'bad_signature'],
    ['unknown kid', await entra.mintApiToken({ unpublishedKey: true }), 401, 'unknown_kid'],
    ['no scope', await entra.mintApiToken({ scp: 'Files.Read' }), 403, 'missing_scope'],
    ['app-only without the role', await entra.mintApiToken({ kind: 'app', roles: ['something.else'] }), 403, 'missing_role'],
  ];
  const before = server.auditLines().length;
  for (const [name, token, status, reason] of cases) {
    const response = await callTool(token === undefined ? undefined : `Bearer ${token}`);
    assert.equal(response.status, status, name);
    const challenge = response.headers.get('www-authenticate') ?? '';
    assert.match(challenge, new RegExp(`^Bearer resource_metadata="http://127\\.0\\.0\\.1:\\d+/\\.well-known/oauth-protected-resource/mcp"`), name);
    // Users are told the delegated scope; app-only callers (client credentials) request `.default`.
    const scope = name.startsWith('app-only') ? '.default' : 'user_impersonation';
    assert.match(challenge, new RegExp(`scope="api://${entra.api.clientId}/${scope.replace('.', '\\.')}"`), name);
    if (status === 403) assert.match(challenge, /error="insufficient_scope"/, name);
    else if (token !== undefined) assert.match(challenge, /error="invalid_token"/, name);
    else assert.doesNotMatch(challenge, /error=/, `${name}: no error code without a token (RFC 6750 §3.1)`);
    await response.text();
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  const refused = server.auditLines().slice(before).filter((line) => line.event === 'mcp.request.rejected');
  assert.deepEqual(
    refused.map((line) => [line.errorClass, line.statusCode, line.outcome]),
    cases.map(([, , status, reason]) => [reason, String(status), 'denied']),
    'one rejection event per refused call, with its reason',
  );
  for (const [, token] of cases) if (token) assert.ok(!server.stdout().includes(token) && !server.stderr().includes(token), 'no token in the logs');
});

test('protected resource metadata at both well-known paths: resource from configuration, fully qualified scope', async () => {
  for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
    const response = await fetch(`${server.baseUrl}${path}`);
    assert.equal(response.status, 200, path);
    const document = (await response.json()) as Record<string, unknown>;
    assert.equal(document.resource, publicUrl);
    assert.deepEqual(document.authorization_servers, [`${emulator.origin('login.localhost')}/${emulator.entra.homeTenantId}/v2.0`]);
    assert.deepEqual(document.scopes_supported, [`api://${emulator.entra.api.clientId}/user_impersonation`]);
    assert.deepEqual(document.bearer_methods_supported, ['header']);
  }
});

test('the official SDK finds the metadata from the 401, then the tenant; a token reaches the tools, audited with the user', async () => {
  const refused = await callTool(undefined);
  const { resourceMetadataUrl, scope } = extractWWWAuthenticateParams(refused);
  assert.ok(resourceMetadataUrl, 'resource_metadata in the challenge');
  const resource = await discoverOAuthProtectedResourceMetadata(server.mcpUrl, { resourceMetadataUrl });
  assert.equal(resource.resource, publicUrl);
  const issuer = resource.authorization_servers?.[0];
  assert.ok(issuer);
  const authorizationServer = await discoverAuthorizationServerMetadata(issuer);
  assert.ok(authorizationServer?.token_endpoint, 'the tenant publishes its endpoints (OpenID discovery)');
  assert.equal(scope, resource.scopes_supported?.[0]);

  // The user's token, as the tenant issues it after sign-in (the interactive step is issue 11's facade).
  const token = await emulator.entra.mintApiToken({ upn: 'ada@contoso.example', name: 'Ada' });
  const client = await connectClient(server.mcpUrl, 'entra-test', { authorization: `Bearer ${token}` });
  const result = await client.callTool({ name: 'server_info_get', arguments: {} });
  const caller = (result.structuredContent as { caller: Record<string, unknown> }).caller;
  assert.equal(caller.upn, 'ada@contoso.example');
  assert.deepEqual(caller.scopes, ['user_impersonation']);
  await client.close();
  await new Promise((resolve) => setTimeout(resolve, 200));
  const call = server.auditLines().filter((line) => line.event === 'mcp.tool.call').at(-1);
  assert.equal(call?.authMode, 'entra');
  assert.equal(call?.callerName, 'ada@contoso.example');
  assert.equal(call?.outcome, 'success');
});

test('Easy Auth principal headers outside Easy Auth are not trusted, and are audited as a spoofing attempt', async () => {
  const token = await emulator.entra.mintApiToken({ upn: 'ada@contoso.example' });
  const response = await callTool(`Bearer ${token}`, { 'x-ms-client-principal-id': 'spoofed-oid', 'x-ms-client-principal-name': 'admin@contoso.example' });
  const [message] = await messagesOf(response);
  const caller = message?.result?.structuredContent?.caller as Record<string, unknown>;
  assert.equal(caller.upn, 'ada@contoso.example', 'the identity is the token, not the headers');
  assert.notEqual(caller.objectId, 'spoofed-oid');
  await new Promise((resolve) => setTimeout(resolve, 200));
  const suspicious = server.auditLines().filter((line) => line.event === 'mcp.request.suspicious');
  assert.equal(suspicious.length, 1);
  assert.equal(suspicious[0]?.errorClass, 'spoofed_principal_headers');
  assert.equal(suspicious[0]?.headers, 'x-ms-client-principal-id,x-ms-client-principal-name');
});
