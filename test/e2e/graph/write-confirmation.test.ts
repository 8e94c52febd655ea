import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SAMPLE } from '../../../emulator/graph/sample-tenant.ts';
import { startEmulator, type Emulator } from '../../../emulator/server.ts';
import { startGraphServerProcess } from '../../support/graph-server.ts';
import type { ServerProcess } from '../../support/server-process.ts';
import { callOnce, elicitingClient, legacyClient, modernClient, textOf, type Answer, type ElicitationSeen } from '../../support/graph-write-clients.ts';

/**
 * How writes are confirmed, through the real server (on behalf of the user,
 * GRAPH_WRITE_CONFIRMATION=preview, the default): a 2026-07-28 client that
 * declares elicitation is asked and only an explicit accept sends; other
 * clients get a preview and a confirmation token, which only confirms the
 * same arguments for the same caller.
 */
const TEAM = SAMPLE.teams.mark8;
const CHANNEL = SAMPLE.channels.mark8General;
const POSTS = `/teams/${TEAM}/channels/${encodeURIComponent(CHANNEL)}/messages`;

let emulator: Emulator;
let server: ServerProcess;
let token: string;
before(async () => {
  emulator = await startEmulator();
  server = await startGraphServerProcess(emulator, 'onBehalfOf', { env: { MCP_READ_ONLY: 'false', MCP_TOOLSET_GRANTS: 'graph.send=role:Graph.Send' } });
  token = await emulator.entra.mintApiToken({ roles: ['Graph.Send'] });
});
after(async () => {
  await server?.stop();
  await emulator?.close();
});
beforeEach(() => emulator.graph.reset());

const posts = () => emulator.graph.calls.filter((call) => call.method === 'POST' && call.path.startsWith(POSTS));
const channelMessages = () => emulator.graph.tenant.teams.find((team) => team.id === TEAM)!.channels.find((channel) => channel.id === CHANNEL)!.messages;
const lastToolAudit = () => server.auditLines().filter((line) => line.event === 'mcp.tool.call').at(-1);
const args = (content: string) => ({ teamId: TEAM, channelId: CHANNEL, content, format: 'markdown' });

describe('a 2026-07-28 client that declares elicitation is asked', () => {
  test('accepted: the user saw where and the final text with the marker, and exactly one message was posted', async () => {
    const seen: ElicitationSeen[] = [];
    const answer = (): Answer => ({ action: 'accept', content: { confirm: true } });
    const result = await callOnce(() => elicitingClient(server.mcpUrl, token, answer, seen), 'graph_channel_message_send', args('**Launch** is on Friday'));
    assert.equal(result.isError, undefined, textOf(result));
    assert.equal(result.structuredContent?.status, 'sent');
    assert.equal(seen.length, 1);
    assert.match(seen[0]!.message, new RegExp(`Post this message in channel ${CHANNEL.replace(/[.]/g, '\\.')} of team ${TEAM}\\?`));
    assert.match(seen[0]!.message, /\*\*Launch\*\* is on Friday\n\nSent by an AI assistant on behalf of Test User\.$/);
    assert.equal(posts().length, 1);
    const posted = channelMessages().at(-1)!;
    assert.equal(posted.id, result.structuredContent?.messageId);
    assert.equal(posted.body.content, '<p><strong>Launch</strong> is on Friday</p><p><em>Sent by an AI assistant on behalf of Test User.</em></p>');
    const audits = server.auditLines().filter((line) => line.event === 'mcp.tool.call').slice(-2);
    assert.deepEqual(audits.map((line) => [line.outcome, line.resultType]), [['success', 'input_required'], ['success', undefined]]);
    for (const line of audits) {
      assert.equal(line.target, 'graph:/teams/{teamId}/channels/{channelId}/messages');
      assert.ok(!JSON.stringify(line).includes('Launch'), 'the content never reaches the audit event');
    }
  });

  for (const answer of [{ action: 'decline' }, { action: 'cancel' }, { action: 'accept', content: { confirm: false } }] as Answer[]) {
    test(`${answer.action}${'content' in answer ? ' with confirm=false' : ''}: nothing is sent`, async () => {
      const result = await callOnce(() => elicitingClient(server.mcpUrl, token, () => answer), 'graph_channel_message_send', args('Not this one'));
      assert.equal(result.isError, true);
      assert.match(textOf(result), /Not sent: the user did not confirm.*Nothing was sent/);
      assert.equal(posts().length, 0);
      assert.equal(emulator.graph.calls.length, 0, 'Graph saw nothing at all');
      assert.equal(lastToolAudit()?.errorClass, 'not_confirmed');
    });
  }
});

describe('clients that cannot be asked get a preview and a confirmation token', () => {
  for (const [name, connect] of [['SDK v1 client (2025-11-25)', legacyClient], ['SDK v2 client without elicitation (2026-07-28)', modernClient]] as const) {
    test(`${name}: the preview sends nothing; the same arguments with the token send once`, async () => {
      const first = await callOnce(() => connect(server.mcpUrl, token), 'graph_channel_message_send', args('Standup moved to 10:00'));
      assert.equal(first.isError, undefined, textOf(first));
      const preview = first.structuredContent!;
      assert.equal(preview.status, 'preview');
      assert.equal(preview.preview.request.method, 'POST');
      assert.equal(preview.preview.request.path, POSTS);
      assert.equal(preview.preview.request.body.body.content, '<p>Standup moved to 10:00</p><p><em>Sent by an AI assistant on behalf of Test User.</em></p>');
      assert.match(textOf(first), /Preview only: nothing was sent/);
      assert.equal(posts().length, 0);
      const confirmed = await callOnce(() => connect(server.mcpUrl, token), 'graph_channel_message_send', { ...args('Standup moved to 10:00'), confirmationToken: preview.confirmationToken });
      assert.equal(confirmed.structuredContent?.status, 'sent', textOf(confirmed));
      assert.equal(posts().length, 1);
      assert.equal(channelMessages().at(-1)!.body.content, preview.preview.request.body.body.content, 'what was previewed is what was posted');
      assert.ok(!JSON.stringify(server.auditLines().slice(-2)).includes(preview.confirmationToken), 'the token is redacted in the audit');
      const again = await callOnce(() => connect(server.mcpUrl, token), 'graph_channel_message_send', { ...args('Standup moved to 10:00'), confirmationToken: preview.confirmationToken });
      assert.equal(again.isError, true);
      assert.match(textOf(again), /already used/);
      assert.equal(posts().length, 1, 'one confirmation sends once');
    });
  }

  test('a token is refused for other arguments, for another caller, and when altered; nothing is sent', async () => {
    const first = await callOnce(() => legacyClient(server.mcpUrl, token), 'graph_channel_message_send', args('Budget is approved'));
    const issued = first.structuredContent!.confirmationToken as string;
    const changed = await callOnce(() => legacyClient(server.mcpUrl, token), 'graph_channel_message_send', { ...args('Budget is NOT approved'), confirmationToken: issued });
    assert.equal(changed.isError, true);
    assert.match(textOf(changed), /issued for other arguments/);
    const reply = await callOnce(() => legacyClient(server.mcpUrl, token), 'graph_channel_message_send', { ...args('Budget is approved'), replyToMessageId: '1700000000000', confirmationToken: issued });
    assert.match(textOf(reply), /issued for other arguments/);
    emulator.entra.addUser({ oid: '11111111-0000-4000-8000-0000000000b0', upn: 'bob@emulator.localhost', name: 'Bob' });
    const bob = await emulator.entra.mintApiToken({ oid: '11111111-0000-4000-8000-0000000000b0', upn: 'bob@emulator.localhost', name: 'Bob', roles: ['Graph.Send'] });
    const stolen = await callOnce(() => legacyClient(server.mcpUrl, bob), 'graph_channel_message_send', { ...args('Budget is approved'), confirmationToken: issued });
    assert.match(textOf(stolen), /issued to another user/);
    const [version, keyId, body, mac] = issued.split('.') as [string, string, string, string];
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${version}.${keyId}.${Buffer.from(JSON.stringify({ ...payload, e: Date.now() + 86_400_000 })).toString('base64url')}.${mac}`;
    const altered = await callOnce(() => legacyClient(server.mcpUrl, token), 'graph_channel_message_send', { ...args('Budget is approved'), confirmationToken: forged });
    assert.match(textOf(altered), /was altered/);
    assert.equal(lastToolAudit()?.errorClass, 'invalid_confirmation');
    assert.equal(posts().length, 0, 'no refused token posted anything');
  });
});
