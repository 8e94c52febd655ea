import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { decodeJwt } from 'jose';
import { createKustoService, type KustoService } from '../../emulator/kusto/service.ts';
import { startEmulator, type Emulator } from '../../emulator/server.ts';
import { connectClient, startEntraServerProcess, type ServerProcess } from '../support/server-process.ts';

/**
 * KUSTO_IDENTITY=onBehalfOf end to end: the real server process in
 * `MCP_AUTH_MODE=entra` against the emulated tenant and cluster. Two users
 * with different Kusto roles call the tools with their own Entra tokens; the
 * cluster sees a token for each user, obtained through the on-behalf-of
 * exchange by the API app with its managed identity (no secret anywhere),
 * never the inbound token, and each user sees only their own databases and
 * schemas.
 */
let emulator: Emulator;
let kusto: KustoService;
let server: ServerProcess;
const ALICE = '00000000-0000-4000-8000-0000000a11ce';
const BOB = '00000000-0000-4000-8000-0000000000b0';
const tokens: Record<string, string> = {};
const clients: Record<string, Client> = {};


let env: Record<string, string>;
before(async () => {
  kusto = createKustoService();
  emulator = await startEmulator({ services: [kusto] });
  emulator.entra.addUser({ oid: ALICE, upn: 'alice@emulator.localhost', name: 'Alice' });
  emulator.entra.addUser({ oid: BOB, upn: 'bob@emulator.localhost', name: 'Bob' });
  // Alice reads Samples; Bob reads AppTelemetry and Metrics. The managed identity reads nothing.
  kusto.grantViewer('Samples', ALICE);
  kusto.grantViewer('AppTelemetry', 'bob@emulator.localhost');
  kusto.grantViewer('Metrics', BOB);
  env = {
    KUSTO_CLUSTERS: `sandbox=${emulator.origin('sandbox.kusto.localhost')}/Samples`,
    KUSTO_IDENTITY: 'onBehalfOf',
  };
  server = await startEntraServerProcess(emulator, env);
  for (const [name, oid] of [['alice', ALICE], ['bob', BOB]] as const) {
    tokens[name] = await emulator.entra.mintApiToken({ oid });
    clients[name] = await connectClient(server.mcpUrl, `e2e-${name}`, { authorization: `Bearer ${tokens[name]}` });
  }
});
after(async () => {
  for (const client of Object.values(clients)) await client.close();
  await server?.stop();
  await emulator?.close();
});

async function call(who: string, name: string, args: Record<string, unknown>) {
  const result = await clients[who]!.callTool({ name, arguments: args });
  const content = result.content as Array<{ type: string; text: string }>;
  return { isError: result.isError === true, text: content.map((c) => c.text).join('\n'), data: (result.structuredContent ?? {}) as Record<string, unknown> };
}
const names = (items: unknown) => (items as Array<{ name: string }>).map((item) => item.name);

test('no secret is configured anywhere: the exchange authenticates with the managed identity', () => {
  // Everything the process was started with: the emulator's environment, entra mode, and this test's settings.
  for (const name of Object.keys({ ...emulator.env(), ...emulator.entra.settingsEnv(server.mcpUrl), ...env })) assert.doesNotMatch(name, /SECRET|CERTIFICATE|PASSWORD/, name);
});

test('two users see the databases and schemas their own Kusto roles allow', async () => {
  assert.deepEqual(names((await call('alice', 'kusto_list_databases', {})).data.databases), ['Samples']);
  assert.deepEqual(names((await call('bob', 'kusto_list_databases', {})).data.databases), ['AppTelemetry', 'Metrics']);

  const aliceTables = await call('alice', 'kusto_list_tables', { database: 'Samples' });
  assert.ok(names(aliceTables.data.tables).includes('StormEvents'), aliceTables.text);
  const bobTables = await call('bob', 'kusto_list_tables', { database: 'Metrics' });
  assert.ok(names(bobTables.data.tables).includes('Perf'), bobTables.text);

  // Alice's schema of Samples is cached now; Bob still cannot see it, from the cache or from Kusto.
  const bobOnSamples = await call('bob', 'kusto_table_schema', { database: 'Samples', table: 'StormEvents' });
  assert.equal(bobOnSamples.isError, true);
  assert.match(bobOnSamples.text, /Access denied to you \(HTTP 403\).*not authorized to read database 'Samples'/s);
  assert.match(bobOnSamples.text, /You need the Viewer role/);
  assert.doesNotMatch(bobOnSamples.text, /DamageProperty|StormEvents.*columns/);
  const bobContext = await call('bob', 'kusto_schema_context', { database: 'Samples', question: 'storm damage by state' });
  assert.equal(bobContext.isError, true);

  const aliceOnMetrics = await call('alice', 'kusto_list_tables', { database: 'Metrics' });
  assert.equal(aliceOnMetrics.isError, true);
  assert.doesNotMatch(aliceOnMetrics.text, /Perf|Heartbeat/);

  const query = await call('alice', 'kusto_query', { query: 'StormEvents | count' });
  assert.equal(query.isError, false, query.text);
  assert.deepEqual(query.data.rows, [[3000]]);
});

test("Kusto saw each user's own token, obtained through the exchange, never the inbound one", async () => {
  const oids = new Set<string>();
  for (const request of [...kusto.queries, ...kusto.commands]) {
    assert.equal(request.identity?.idtyp, 'user', request.csl);
    assert.equal(request.identity?.appid, emulator.entra.api.clientId, 'issued to the API app by the exchange');
    assert.equal(request.identity?.scp, 'user_impersonation');
    oids.add(String(request.identity?.oid));
  }
  assert.deepEqual([...oids].sort(), [BOB, ALICE].sort());
  // The database lists were answered for the right user.
  const listings = kusto.commands.filter((c) => c.csl === '.show databases');
  assert.deepEqual(listings.map((c) => c.identity?.oid), [ALICE, BOB]);

  const sent = emulator.requestsFor('kusto').map((r) => String(r.headers.authorization ?? ''));
  assert.ok(sent.length > 0);
  for (const header of sent.filter(Boolean)) {
    assert.ok(!Object.values(tokens).some((inbound) => header.includes(inbound)), 'the inbound token never reaches Kusto');
    assert.notEqual(decodeJwt(header.replace(/^Bearer /, '')).aud, emulator.entra.api.clientId);
  }

  const exchanges = emulator.requestsFor('entra').filter((r) => new URL(r.url).pathname.endsWith('/oauth2/v2.0/token')).map((r) => new URLSearchParams(r.body));
  const onBehalfOf = exchanges.filter((form) => form.get('requested_token_use') === 'on_behalf_of');
  assert.equal(onBehalfOf.length, 2, 'one exchange per user: the rest came from the cache');
  for (const form of onBehalfOf) {
    assert.ok(Object.values(tokens).includes(form.get('assertion') ?? ''), 'the inbound token is only the assertion');
    assert.equal(form.get('client_secret'), null);
    assert.equal(decodeJwt(form.get('client_assertion') ?? '').sub, emulator.identity.principalId, 'the managed identity as federated credential');
  }
});

test('the audit records the caller and the downstream identity', async () => {
  const events = server
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { name?: string; properties?: Record<string, string> } & Record<string, unknown>)
    .map((event) => (event.properties ?? event) as Record<string, string>)
    .filter((properties) => String(properties.tool ?? '').startsWith('kusto_'));
  assert.ok(events.length >= 8, `${events.length} Kusto tool events`);
  for (const event of events) {
    assert.equal(event.downstreamIdentity, 'onBehalfOf', JSON.stringify(event));
    assert.ok([ALICE, BOB].includes(event.callerObjectId ?? ''), JSON.stringify(event));
  }
  const denied = events.find((event) => event.tool === 'kusto_table_schema' && event.callerObjectId === BOB);
  assert.equal(denied?.errorClass, 'permission_denied');
});

test('a Conditional Access claims challenge comes back as the 401 step-up with the claims, and is audited', async () => {
  const CAROL = '00000000-0000-4000-8000-00000000ca01';
  emulator.entra.addUser({ oid: CAROL, upn: 'carol@emulator.localhost', name: 'Carol' });
  kusto.grantViewer('Samples', CAROL);
  const claims = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}';
  emulator.entra.requireClaimsChallenge({ userId: CAROL, claims });
  try {
    const token = await emulator.entra.mintApiToken({ oid: CAROL });
    const response = await fetch(server.mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25', authorization: `Bearer ${token}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'kusto_list_databases', arguments: {} } }),
    });
    assert.equal(response.status, 401);
    const challenge = response.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /error="insufficient_claims"/);
    assert.ok(challenge.includes(`claims="${Buffer.from(claims).toString('base64')}"`), challenge);
    await response.text();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const event = server
      .auditLines()
      .find((line) => line.event === 'mcp.tool.call' && line.callerName === 'carol@emulator.localhost');
    assert.equal(event?.errorClass, 'claims_challenge');
  } finally {
    emulator.entra.clearClaimsChallenges();
  }
});
