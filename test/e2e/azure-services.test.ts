import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, type Emulator } from '../../emulator/server.ts';
import { connectClient, MCP_HEADERS, startServerProcess, type ServerProcess } from '../support/server-process.ts';

/**
 * The real server process against the emulator: managed identity, Key Vault
 * (challenge flow, cache), Application Insights audit with Entra ingestion,
 * and a canary secret that must never come back out.
 */
const CANARY = `canary-${crypto.randomUUID()}`;
const FINGERPRINT_SECRET = 'audit-fingerprint-key';
const CALLS = 25;

let emulator: Emulator;
let server: ServerProcess;
const responses: string[] = [];

before(async () => {
  emulator = await startEmulator();
  emulator.keyVault.setSecret(FINGERPRINT_SECRET, CANARY);
  emulator.appInsights.requireEntraAuth = true;
  server = await startServerProcess({
    ...emulator.env(),
    AUDIT_FINGERPRINT_SECRET_NAME: FINGERPRINT_SECRET,
  });
  const client = await connectClient(server.mcpUrl);
  for (let i = 0; i < CALLS; i++) {
    const result = await client.callTool({ name: 'server_info_get', arguments: {} });
    responses.push(JSON.stringify(result));
  }
  // A call whose argument looks like a credential: it must be redacted in the audit.
  responses.push(JSON.stringify(await client.callTool({ name: 'server_info_get', arguments: { token: `Bearer ${CANARY}` } })));
  await client.close();
  const rejected = await fetch(server.mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, origin: 'https://evil.example' }, body: '{}' });
  responses.push(await rejected.text());
  // SIGTERM right away: every event must still be delivered before exit.
  assert.equal(await server.stop(), 0);
});

after(async () => {
  await server?.stop();
  await emulator?.close();
});

const auditEnvelopes = () =>
  emulator.appInsights.envelopes().filter((envelope) => envelope.data?.baseType === 'EventData');
const eventData = (envelope: { data?: { baseData: Record<string, unknown> } }) =>
  envelope.data?.baseData as { name: string; properties: Record<string, string>; measurements?: Record<string, number> };

test('no audit event is lost: every call and rejection arrives after SIGTERM', () => {
  const events = auditEnvelopes().map(eventData);
  assert.equal(events.filter((e) => e.name === 'mcp.tool.call').length, CALLS + 1);
  assert.equal(events.filter((e) => e.name === 'mcp.request.rejected').length, 1);
});

test('audit events carry the documented fields', () => {
  const calls = auditEnvelopes().map(eventData).filter((e) => e.name === 'mcp.tool.call');
  const success = calls.find((e) => e.properties.outcome === 'success');
  assert.ok(success);
  for (const field of ['schemaVersion', 'requestId', 'authMode', 'userAgent', 'protocolVersion', 'tool', 'toolset', 'readOnly', 'outcome', 'jsonRpcId', 'arguments']) {
    assert.ok(success.properties[field], `property ${field}`);
  }
  assert.equal(typeof success.measurements?.durationMs, 'number');
  assert.ok((success.measurements?.resultBytes ?? 0) > 0);
  const invalid = calls.find((e) => e.properties.errorClass === 'invalid_arguments');
  assert.match(invalid?.properties.arguments ?? '', /redacted secret-like len=\d+ fp=[0-9a-f]{16}/);
  const tags = auditEnvelopes()[0]?.tags ?? {};
  assert.equal(tags['ai.cloud.role'], 'azure-mcp-functions', 'events are attributed to the app, not "unknown_service"');
  assert.match(tags['ai.application.ver'] ?? '', /^\d+\.\d+\.\d+/);
  const rejected = auditEnvelopes().map(eventData).find((e) => e.name === 'mcp.request.rejected');
  assert.equal(rejected?.properties.errorClass, 'origin_not_allowed');
  assert.equal(rejected?.properties.outcome, 'denied');
});

test('ingestion used Entra: the exporter sent a managed identity bearer token for Monitor', () => {
  const track = emulator.requestsFor('appinsights').filter((r) => r.url.includes('/track'));
  assert.ok(track.length > 0);
  assert.ok(track.every((r) => r.headers.authorization?.startsWith('Bearer ')));
  assert.ok(track.some((r) => r.status === 200));
});

test('managed identity tokens were requested with the right resource, client id and header', () => {
  const identity = emulator.requestsFor('identity');
  const resources = identity.map((r) => new URL(r.url).searchParams.get('resource'));
  assert.ok(resources.includes('https://vault.localhost'), `resources: ${resources.join(', ')}`);
  assert.ok(resources.includes('https://monitor.azure.com'), `resources: ${resources.join(', ')}`);
  for (const request of identity) {
    assert.equal(request.headers['x-identity-header'], emulator.identity.header);
    assert.equal(new URL(request.url).searchParams.get('client_id'), emulator.identity.clientId);
    assert.equal(request.status, 200);
  }
});

test('Key Vault: challenge flow first, then one cached read for all calls', () => {
  const vault = emulator.requestsFor('keyvault').filter((r) => r.url.includes(`/secrets/${FINGERPRINT_SECRET}`));
  assert.equal(vault[0]?.status, 401, 'first request goes without a token and is challenged');
  assert.equal(vault[0]?.headers.authorization, undefined);
  const authorized = vault.filter((r) => r.status === 200);
  assert.equal(authorized.length, 1, `one read for ${CALLS + 1} audited calls (cached)`);
  assert.match(authorized[0]?.headers.authorization ?? '', /^Bearer /);
});

test('the canary secret and the access tokens never appear in responses, audit events or logs', () => {
  const tokens = emulator
    .requestsFor('identity')
    .map((r) => (JSON.parse(r.responseBody) as { access_token?: string }).access_token)
    .filter((token): token is string => Boolean(token));
  assert.ok(tokens.length > 0);
  const haystacks = {
    responses: responses.join('\n'),
    envelopes: JSON.stringify(emulator.appInsights.envelopes()),
    stdout: server.stdout(),
    stderr: server.stderr(),
  };
  for (const [where, text] of Object.entries(haystacks)) {
    assert.ok(!text.includes(CANARY), `canary secret found in ${where}`);
    for (const token of tokens) assert.ok(!text.includes(token.slice(-20)), `access token found in ${where}`);
  }
});
