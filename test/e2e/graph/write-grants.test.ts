import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { SAMPLE } from '../../../emulator/graph/sample-tenant.ts';
import { startEmulator, type Emulator } from '../../../emulator/server.ts';
import { messagesOf, modernPost } from '../../support/mcp-request.ts';
import { startGraphServerProcess } from '../../support/graph-server.ts';
import type { ServerProcess } from '../../support/server-process.ts';

/**
 * Who sees the Graph write tools: only callers a MCP_TOOLSET_GRANTS rule
 * names (never by default, not even with the role toolset.<id>), and only
 * with MCP_READ_ONLY=false. A send-only caller gets the send tools and
 * none of the read tools, so reading other people's content and sending
 * cannot be combined by one grant.
 */
const SEND_TOOLS = ['graph_channel_message_send', 'graph_chat_message_send', 'graph_mail_send', 'graph_event_create'];
const ADMIN_TOOLS = ['graph_team_create', 'graph_team_member_add', 'graph_channel_create'];

let emulator: Emulator;
let writable: ServerProcess;
let readOnly: ServerProcess;
before(async () => {
  emulator = await startEmulator();
  [writable, readOnly] = await Promise.all([
    startGraphServerProcess(emulator, 'onBehalfOf', { env: { MCP_READ_ONLY: 'false', MCP_TOOLSET_GRANTS: 'graph=role:Graph.Read;graph.send=role:Graph.Send' } }),
    startGraphServerProcess(emulator, 'onBehalfOf', { env: { MCP_TOOLSET_GRANTS: 'graph.send=role:Graph.Send' } }),
  ]);
});
after(async () => {
  await Promise.all([writable?.stop(), readOnly?.stop()]);
  await emulator?.close();
});

async function post(server: ServerProcess, token: string, method: string, params: Record<string, unknown> = {}) {
  const request = modernPost(method, params, { headers: { authorization: `Bearer ${token}` } });
  const response = await fetch(server.mcpUrl, { method: 'POST', headers: request.headers, body: await request.text() });
  const [answer] = await messagesOf(response);
  return answer?.result;
}
const graphTools = async (server: ServerProcess, token: string) =>
  ((await post(server, token, 'tools/list')).tools as Array<{ name: string }>).map((tool) => tool.name).filter((name) => name.startsWith('graph_'));

test('write tools are listed only for the granted role; a send-only caller sees no read tool', async () => {
  const entra = emulator.entra;
  const nobody = await entra.mintApiToken();
  const reader = await entra.mintApiToken({ roles: ['Graph.Read'] });
  const sender = await entra.mintApiToken({ roles: ['Graph.Send'] });
  const roleHolder = await entra.mintApiToken({ roles: ['toolset.graph.send', 'toolset.graph.admin', 'toolset.graph'] });
  assert.deepEqual(await graphTools(writable, nobody), []);
  const read = await graphTools(writable, reader);
  assert.ok(read.includes('graph_teams_list'), read.join(', '));
  assert.deepEqual(read.filter((name) => SEND_TOOLS.includes(name) || ADMIN_TOOLS.includes(name)), []);
  assert.deepEqual(await graphTools(writable, sender), SEND_TOOLS, 'the send tools, and not graph_teams_list');
  // The toolset roles grant read-only tools only: no write tool, and admin has no rule at all.
  const listed = await graphTools(writable, roleHolder);
  assert.ok(listed.includes('graph_teams_list'));
  for (const name of [...SEND_TOOLS, ...ADMIN_TOOLS]) assert.ok(!listed.includes(name), `${name} not listed by a default`);
});

test('calling a write tool without the grant is refused and sends nothing', async () => {
  emulator.graph.reset();
  const reader = await emulator.entra.mintApiToken({ roles: ['Graph.Read'] });
  const result = await post(writable, reader, 'tools/call', { name: 'graph_channel_message_send', arguments: { teamId: SAMPLE.teams.mark8, channelId: SAMPLE.channels.mark8General, content: 'hi' } });
  assert.equal(result.isError, true);
  assert.match(result.content[0].text, /not granted to you: the toolset "graph\.send" needs the app role 'Graph\.Send'/);
  assert.equal(emulator.graph.calls.length, 0);
  const denied = writable.auditLines().filter((line) => line.event === 'mcp.tool.call').at(-1);
  assert.deepEqual([denied?.outcome, denied?.errorClass], ['denied', 'not_granted']);
});

test('with MCP_READ_ONLY=true (the default) the grant shows no write tool', async () => {
  const sender = await emulator.entra.mintApiToken({ roles: ['Graph.Send'] });
  assert.deepEqual((await graphTools(readOnly, sender)).filter((name) => SEND_TOOLS.includes(name) || ADMIN_TOOLS.includes(name)), []);
});
