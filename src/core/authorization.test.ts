import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { createApp } from '../app.ts';
import { loadConfig } from '../config.ts';
import { ALL_TOOLS, buildToolCatalog } from '../tools/catalog.ts';
import { createGrantPolicy, parseToolsetGrants } from '../auth/grants.ts';
import { anonymousPrincipal, createPrincipal } from '../auth/principal.ts';
import { createGrantedTools } from './granted-tools.ts';
import { defineTool } from '../tools/define-tool.ts';
import { memorySink } from '../../test/support/memory-sink.ts';
import { mcpPost, messagesOf, modernPost, rpc } from '../../test/support/mcp-request.ts';

/**
 * Authorization at the edge: which tools a caller sees and may call
 * (MCP_TOOLSET_GRANTS and its defaults), and the per-caller rate limit.
 * Callers come in through easyAuth (the platform's principal headers carry
 * roles and groups), so every request names its own principal.
 */

const GROUP = '0f1e2d3c-4b5a-4697-8877-665544332211';
const EASY_AUTH = { MCP_AUTH_MODE: 'easyAuth', WEBSITE_SITE_NAME: 'func-test', WEBSITE_AUTH_ENABLED: 'True' };
// Kusto tools are enabled with a cluster configured; nothing here reaches it.
const CLUSTER = { KUSTO_CLUSTERS: 'help=https://help.kusto.windows.net/Samples' };
const KUSTO_TOOLS = ALL_TOOLS.filter((tool) => tool.toolset === 'kusto').map((tool) => tool.name);

let ran = 0;
/** A tool that can make changes, in the server toolset. */
const writer = defineTool({
  name: 'test_item_delete',
  title: 'Delete',
  description: 'Deletes.',
  toolset: 'server',
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  input: z.object({}).strict(),
  handler: async () => {
    ran++;
    return { content: [{ type: 'text', text: 'deleted' }] };
  },
});

function setup(env: Record<string, string>) {
  const sink = memorySink();
  const app = createApp(loadConfig({ ...CLUSTER, ...env }), { auditSink: sink, tools: [...ALL_TOOLS, writer] });
  const audit = async () => {
    await app.auditor.flush();
    return sink.events;
  };
  return { app, audit };
}

/** Easy Auth's headers for a signed-in user with these roles and groups. */
function as(objectId: string, { roles = [], groups = [] }: { roles?: string[]; groups?: string[] } = {}): Record<string, string> {
  const claims = [
    { typ: 'http://schemas.microsoft.com/identity/claims/tenantid', val: 'tenant-1' },
    ...roles.map((val) => ({ typ: 'roles', val })),
    ...groups.map((val) => ({ typ: 'groups', val })),
  ];
  return {
    'x-ms-client-principal-id': objectId,
    'x-ms-client-principal-name': `${objectId}@contoso.com`,
    'x-ms-client-principal-idp': 'aad',
    'x-ms-client-principal': Buffer.from(JSON.stringify({ auth_typ: 'aad', claims })).toString('base64'),
  };
}

async function listModern(app: ReturnType<typeof setup>['app'], headers: Record<string, string>) {
  const [answer] = await messagesOf(await app.fetch(modernPost('tools/list', {}, { headers })));
  return { names: (answer?.result.tools as Array<{ name: string }>).map((tool) => tool.name), cacheScope: answer?.result.cacheScope, ttlMs: answer?.result.ttlMs };
}

async function list2025(app: ReturnType<typeof setup>['app'], headers: Record<string, string>) {
  const [answer] = await messagesOf(await app.fetch(mcpPost(rpc('tools/list', {}), { 'mcp-protocol-version': '2025-06-18', ...headers })));
  return (answer?.result.tools as Array<{ name: string }>).map((tool) => tool.name);
}

async function call(app: ReturnType<typeof setup>['app'], name: string, headers: Record<string, string>, args: Record<string, unknown> = {}) {
  const response = await app.fetch(mcpPost(rpc('tools/call', { name, arguments: args }), { 'mcp-protocol-version': '2025-06-18', ...headers }));
  const [answer] = response.status === 200 ? await messagesOf(response) : [await response.json()];
  return { response, answer };
}

test('tools/list shows each caller only its granted tools, by role and by group, in both eras; the 2026 cache hint is private', async () => {
  const { app } = setup({ ...EASY_AUTH, MCP_TOOLSET_GRANTS: `kusto=role:Data.Reader|group:${GROUP}` });
  const plain = await listModern(app, as('oid-plain'));
  const reader = await listModern(app, as('oid-reader', { roles: ['Data.Reader'] }));
  const member = await listModern(app, as('oid-member', { groups: [GROUP] }));
  assert.deepEqual(plain.names, ['server_info_get'], 'the rule replaced the default for kusto; server keeps it');
  assert.deepEqual(reader.names, ['server_info_get', ...KUSTO_TOOLS]);
  assert.deepEqual(member.names, reader.names);
  for (const list of [plain, reader, member]) {
    assert.equal(list.cacheScope, 'private', 'a list that depends on the caller must not be shared by caches');
    assert.equal(list.ttlMs, 300_000);
  }
  assert.deepEqual(await list2025(app, as('oid-plain')), plain.names);
  assert.deepEqual(await list2025(app, as('oid-reader', { roles: ['Data.Reader'] })), reader.names);
  // server_info_get tells each caller the tools it may call.
  const { answer } = await call(app, 'server_info_get', as('oid-plain'));
  assert.deepEqual(answer?.result.structuredContent.tools, ['server_info_get']);
});

test('calling a tool that is not granted is a denied result naming the role and group, and a denied audit event; the tool never runs', async () => {
  const { app, audit } = setup({ ...EASY_AUTH, MCP_TOOLSET_GRANTS: `kusto=role:Data.Reader|group:${GROUP}` });
  const { response, answer } = await call(app, 'kusto_query', as('oid-plain'), { query: 'StormEvents | take 1' });
  assert.equal(response.status, 200, 'a tool result, not an HTTP refusal');
  assert.equal(answer?.result.isError, true);
  const text: string = answer?.result.content[0].text;
  assert.match(text, /^Tool kusto_query is not granted to you: the toolset "kusto" needs the app role 'Data.Reader', membership of the group 0f1e2d3c-4b5a-4697-8877-665544332211 or the app role 'toolset.kusto'\./);
  assert.match(text, /An administrator .* grants it/);
  const events = await audit();
  assert.equal(events.length, 1);
  const event = events[0]!;
  assert.equal(event.name, 'mcp.tool.call');
  assert.equal(event.properties.outcome, 'denied');
  assert.equal(event.properties.errorClass, 'not_granted');
  assert.equal(event.properties.tool, 'kusto_query');
  assert.equal(event.properties.toolset, 'kusto');
  assert.equal(event.properties.callerObjectId, 'oid-plain');
  // An unknown tool's hint lists only what this caller may call.
  const unknown = await call(app, 'kusto_nope', as('oid-plain'));
  assert.match(unknown.answer?.result.content[0].text, /Available tools: server_info_get\.$/);
});

test('write tools are not granted by the defaults, not even with the toolset role; a rule grants them', async () => {
  ran = 0;
  const defaults = setup({ ...EASY_AUTH, MCP_READ_ONLY: 'false' });
  const admin = as('oid-admin', { roles: ['toolset.server'] });
  assert.deepEqual((await listModern(defaults.app, admin)).names, ['server_info_get', ...KUSTO_TOOLS], 'the write tool is enabled but granted to nobody');
  const refused = await call(defaults.app, 'test_item_delete', admin);
  assert.equal(refused.answer?.result.isError, true);
  assert.match(refused.answer?.result.content[0].text, /can make changes, and tools that can make changes are granted only by a rule in MCP_TOOLSET_GRANTS naming the toolset "server"/);
  assert.equal(ran, 0);
  const [event] = await defaults.audit();
  assert.equal(event?.properties.outcome, 'denied');
  assert.equal(event?.properties.errorClass, 'not_granted');
  assert.equal(event?.properties.readOnly, 'false');

  const granted = setup({ ...EASY_AUTH, MCP_READ_ONLY: 'false', MCP_TOOLSET_GRANTS: 'server=role:toolset.server' });
  assert.ok((await listModern(granted.app, admin)).names.includes('test_item_delete'));
  assert.ok(!(await listModern(granted.app, as('oid-other'))).names.includes('test_item_delete'));
  const allowed = await call(granted.app, 'test_item_delete', admin);
  assert.equal(allowed.answer?.result.isError, undefined);
  assert.equal(ran, 1);
});

test('functionKey mode identifies nobody: everything enabled is listed and callable, and the cache hint stays public', async () => {
  ran = 0;
  const { app } = setup({ MCP_READ_ONLY: 'false' });
  const list = await listModern(app, {});
  assert.deepEqual(list.names, ['server_info_get', ...KUSTO_TOOLS, 'test_item_delete']);
  assert.equal(list.cacheScope, 'public');
  assert.equal((await call(app, 'test_item_delete', {})).answer?.result.isError, undefined);
  assert.equal(ran, 1);
});

test('the rate limit: past the burst a caller gets 429 with Retry-After, audited, before the SDK runs; others and listings are unaffected; it refills', async () => {
  ran = 0;
  const { app, audit } = setup({ ...EASY_AUTH, MCP_READ_ONLY: 'false', MCP_TOOLSET_GRANTS: 'server=role:writer', MCP_RATE_LIMIT_PER_MINUTE: '60', MCP_RATE_LIMIT_BURST: '2' });
  const ada = as('oid-ada', { roles: ['writer'] });
  assert.equal((await call(app, 'test_item_delete', ada)).response.status, 200);
  assert.equal((await call(app, 'test_item_delete', ada)).response.status, 200);
  const limited = await call(app, 'test_item_delete', ada);
  assert.equal(limited.response.status, 429);
  assert.equal(limited.response.headers.get('retry-after'), '1');
  assert.equal(limited.answer?.error.code, -32000);
  assert.match(limited.answer?.error.message, /Too Many Requests: .* Retry after 1 s\./);
  assert.equal(ran, 2, 'the refused call never reached the tool');
  // The 2026-07-28 era is refused the same way.
  const modern = await app.fetch(modernPost('tools/call', { name: 'server_info_get', arguments: {} }, { headers: ada }));
  assert.equal(modern.status, 429);
  // Listings are not counted; another caller has its own bucket.
  assert.equal((await listModern(app, ada)).names.length, 9);
  assert.equal((await call(app, 'server_info_get', as('oid-grace'))).response.status, 200);

  const events = await audit();
  const rejected = events.filter((event) => event.name === 'mcp.request.rejected');
  assert.equal(rejected.length, 2);
  for (const event of rejected) {
    assert.equal(event.properties.errorClass, 'rate_limited');
    assert.equal(event.properties.outcome, 'denied');
    assert.equal(event.properties.callerObjectId, 'oid-ada');
    assert.equal(event.properties.statusCode, '429');
  }
  assert.equal(events.filter((event) => event.name === 'mcp.tool.call').length, 3, 'two of ada\'s calls and grace\'s, not the refused ones');

  await sleep(1_100);
  assert.equal((await call(app, 'test_item_delete', ada)).response.status, 200, 'one token back after a second at 60 a minute');
  assert.equal(ran, 3);
});

test('in functionKey mode every caller shares one bucket; 0 turns the limit off', async () => {
  const shared = setup({ MCP_RATE_LIMIT_PER_MINUTE: '1', MCP_RATE_LIMIT_BURST: '1' });
  assert.equal((await call(shared.app, 'server_info_get', {})).response.status, 200);
  const second = await call(shared.app, 'server_info_get', { 'user-agent': 'another-client' });
  assert.equal(second.response.status, 429);
  assert.equal(second.response.headers.get('retry-after'), '60');
  const off = setup({ MCP_RATE_LIMIT_PER_MINUTE: '0' });
  for (let i = 0; i < 40; i++) assert.equal((await call(off.app, 'server_info_get', {})).response.status, 200);
});

test('an anonymous listing in entra mode (MCP_ALLOW_ANONYMOUS_TOOLS_LIST) shows the enabled catalog, public; a signed-in caller gets a private, cached list', () => {
  const catalog = buildToolCatalog({ toolsets: [], readOnly: true }, ALL_TOOLS);
  const granted = createGrantedTools(catalog, createGrantPolicy({ authMode: 'entra', toolsets: ['server', 'kusto'], grants: parseToolsetGrants('kusto=role:Data.Reader', ['server', 'kusto']).grants }));
  const anonymous = anonymousPrincipal('entra');
  assert.equal(granted.personal(anonymous), false);
  assert.equal(granted.descriptors(anonymous), catalog.descriptors);
  assert.equal(granted.access(anonymous).allows(catalog.enabled.get('server_info_get')!), false, 'listed, but not callable');
  const ada = createPrincipal({ authMode: 'entra', idtyp: 'user', objectId: 'a', scopes: ['user_impersonation'] });
  const bob = createPrincipal({ authMode: 'entra', idtyp: 'user', objectId: 'b', scopes: ['user_impersonation'] });
  assert.equal(granted.personal(ada), true);
  assert.deepEqual(granted.names(ada), ['server_info_get']);
  assert.equal(granted.descriptors(ada), granted.descriptors(bob), 'equal grants share one prebuilt list: no per-request rebuild');
  assert.equal(granted.descriptors(ada)[0], catalog.descriptors[0], 'the descriptors are the ones built at start');
});
