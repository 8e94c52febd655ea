import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, type Emulator } from '../../emulator/server.ts';
import { messagesOf, modernPost } from '../support/mcp-request.ts';
import { startEntraServerProcess, type ServerProcess } from '../support/server-process.ts';

/**
 * Toolset grants in `entra` mode, through the real server process and tokens
 * of the emulated tenant: `MCP_TOOLSET_GRANTS` takes kusto away from the
 * delegated scope alone (a group rule), so the app role `toolset.kusto` (the
 * role infra/ creates) decides who sees and calls the Kusto tools.
 */
const GROUP = '0f1e2d3c-4b5a-4697-8877-665544332211';
let emulator: Emulator;
let server: ServerProcess;


before(async () => {
  emulator = await startEmulator();
  server = await startEntraServerProcess(emulator, {
    // Listed, never called: the tools used here answer from configuration.
    KUSTO_CLUSTERS: 'help=https://help.kusto.windows.net/Samples',
    MCP_TOOLSET_GRANTS: `kusto=group:${GROUP}`,
  });
});
after(async () => {
  await server?.stop();
  await emulator?.close();
});

async function post(token: string, method: string, params: Record<string, unknown> = {}) {
  const request = modernPost(method, params, { headers: { authorization: `Bearer ${token}` } });
  const response = await fetch(server.mcpUrl, { method: 'POST', headers: request.headers, body: await request.text() });
  assert.equal(response.status, 200, await response.clone().text());
  const [answer] = await messagesOf(response);
  return answer?.result;
}

test('two tokens with different app roles see different tool lists, privately cached, and only the granted one may call', async () => {
  const entra = emulator.entra;
  const plain = await entra.mintApiToken({ oid: '11111111-0000-4000-8000-000000000001', upn: 'pat@contoso.example' });
  const analyst = await entra.mintApiToken({ oid: '11111111-0000-4000-8000-000000000002', upn: 'ana@contoso.example', roles: ['toolset.kusto'] });
  const member = await entra.mintApiToken({ oid: '11111111-0000-4000-8000-000000000003', claims: { groups: [GROUP] } });

  const names = (result: { tools: Array<{ name: string }> }) => result.tools.map((tool) => tool.name);
  const plainList = await post(plain, 'tools/list');
  const analystList = await post(analyst, 'tools/list');
  const memberList = await post(member, 'tools/list');
  assert.deepEqual(names(plainList), ['server_info_get']);
  assert.ok(names(analystList).includes('kusto_query') && names(analystList).includes('kusto_list_clusters'), names(analystList).join(', '));
  assert.deepEqual(names(analystList).slice(0, 1), ['server_info_get']);
  assert.deepEqual(names(memberList), names(analystList));
  for (const list of [plainList, analystList]) assert.equal(list.cacheScope, 'private');

  const refused = await post(plain, 'tools/call', { name: 'kusto_list_clusters', arguments: {} });
  assert.equal(refused.isError, true);
  assert.match(refused.content[0].text, /not granted to you: the toolset "kusto" needs membership of the group 0f1e2d3c-4b5a-4697-8877-665544332211 or the app role 'toolset\.kusto'\. An administrator/);
  const allowed = await post(analyst, 'tools/call', { name: 'kusto_list_clusters', arguments: {} });
  assert.equal(allowed.isError, undefined, JSON.stringify(allowed));
  assert.equal(allowed.structuredContent.clusters[0].name, 'help');
  const info = await post(plain, 'tools/call', { name: 'server_info_get', arguments: {} });
  assert.deepEqual(info.structuredContent.tools, ['server_info_get']);

  let calls: Array<Record<string, string>> = [];
  for (let waited = 0; calls.length < 3 && waited < 5000; waited += 50) {
    calls = server.auditLines().filter((line) => line.event === 'mcp.tool.call');
    if (calls.length < 3) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const denied = calls.find((line) => line.tool === 'kusto_list_clusters' && line.callerName === 'pat@contoso.example');
  assert.equal(denied?.outcome, 'denied', JSON.stringify(calls));
  assert.equal(denied?.errorClass, 'not_granted');
  const granted = calls.find((line) => line.tool === 'kusto_list_clusters' && line.callerName === 'ana@contoso.example');
  assert.equal(granted?.outcome, 'success');
});
