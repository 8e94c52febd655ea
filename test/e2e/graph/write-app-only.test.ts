import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { SAMPLE } from '../../../emulator/graph/sample-tenant.ts';
import { startEmulator, TEST_USER_ID, type Emulator } from '../../../emulator/server.ts';
import { GRAPH_APPLICATION, startGraphServerProcess } from '../../support/graph-server.ts';
import type { ServerProcess } from '../../support/server-process.ts';
import { callOnce, legacyClient, textOf } from '../../support/graph-write-clients.ts';

/**
 * The write tools when the server calls Graph as its managed identity
 * (app-only): posting messages is refused before anything is sent (Graph
 * allows it only delegated), "me" is the caller's own mailbox and calendar,
 * and what Graph needs app-only (a team owner, a private channel's owner)
 * is given or asked for before sending.
 */
let emulator: Emulator;
let server: ServerProcess;
let token: string;
before(async () => {
  emulator = await startEmulator();
  server = await startGraphServerProcess(emulator, 'managedIdentity', {
    permissions: [...GRAPH_APPLICATION, 'Mail.Send', 'Calendars.ReadWrite'],
    env: { MCP_READ_ONLY: 'false', GRAPH_WRITE_CONFIRMATION: 'none', MCP_TOOLSET_GRANTS: 'graph.send=role:Graph.Send;graph.admin=role:Graph.Admin' },
  });
  token = await emulator.entra.mintApiToken({ roles: ['Graph.Send', 'Graph.Admin'] });
});
after(async () => {
  await server?.stop();
  await emulator?.close();
});
beforeEach(() => emulator.graph.reset());

const call = (name: string, args: Record<string, unknown>) => callOnce(() => legacyClient(server.mcpUrl, token), name, args);
const lastAudit = () => server.auditLines().filter((line) => line.event === 'mcp.tool.call').at(-1)!;

test('channel and chat messages: a clear refusal naming GRAPH_IDENTITY=onBehalfOf, and nothing reaches Graph', async () => {
  for (const [name, args] of [
    ['graph_channel_message_send', { teamId: SAMPLE.teams.mark8, channelId: SAMPLE.channels.mark8General, content: 'hi' }],
    ['graph_chat_message_send', { chatId: SAMPLE.chats.withMegan, content: 'hi' }],
  ] as const) {
    const result = await call(name, args);
    assert.equal(result.isError, true, name);
    assert.match(textOf(result), /works only for a signed-in user \(delegated\).*Nothing was sent/);
    assert.match(textOf(result), /GRAPH_IDENTITY=onBehalfOf/);
    assert.deepEqual([lastAudit().errorClass, lastAudit().downstreamIdentity], ['delegated_only', 'managedIdentity']);
  }
  assert.equal(emulator.graph.calls.length, 0);
});

test('mail goes out from the caller\'s own mailbox (/users/<caller>/sendMail), never one the caller names', async () => {
  const result = await call('graph_mail_send', { to: ['megan.bowen@emulator.localhost'], subject: 'Hello', body: 'Hi', format: 'text' });
  assert.equal(result.structuredContent?.status, 'sent', textOf(result));
  assert.deepEqual(emulator.graph.calls.map((entry) => [entry.method, entry.path, entry.caller?.kind]), [['POST', `/users/${TEST_USER_ID}/sendMail`, 'application']]);
  assert.equal(emulator.graph.tenant.sentMail.at(-1)!.fromUserId, TEST_USER_ID);
  assert.equal(lastAudit().target, 'graph:/users/{caller}/sendMail');
});

test('a team needs an owner app-only: refused before sending without one, created with one', async () => {
  const refused = await call('graph_team_create', { displayName: 'Ops' });
  assert.equal(refused.isError, true);
  assert.match(textOf(refused), /needs at least one owner in ownerUserIds.*Nothing was sent/);
  assert.equal(emulator.graph.calls.length, 0);
  emulator.graph.setTeamCreation({ pendingPolls: ['inProgress'] });
  const created = await call('graph_team_create', { displayName: 'Ops', ownerUserIds: [TEST_USER_ID] });
  assert.equal(created.structuredContent?.status, 'created', textOf(created));
  const team = emulator.graph.tenant.teams.find((candidate) => candidate.id === created.structuredContent?.teamId)!;
  assert.deepEqual(team.members.map((member) => [member.userId, member.roles]), [[TEST_USER_ID, ['owner']]]);
});

test('a private channel app-only gets the caller as its owner', async () => {
  const result = await call('graph_channel_create', { teamId: SAMPLE.teams.sales, displayName: 'Quiet room', membershipType: 'private' });
  assert.equal(result.structuredContent?.status, 'created', textOf(result));
  const channel = emulator.graph.tenant.teams.find((team) => team.id === SAMPLE.teams.sales)!.channels.find((candidate) => candidate.id === result.structuredContent?.channelId)!;
  assert.deepEqual(channel.memberIds, [TEST_USER_ID]);
});
