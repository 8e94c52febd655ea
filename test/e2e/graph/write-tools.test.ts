import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SAMPLE } from '../../../emulator/graph/sample-tenant.ts';
import { startEmulator, TEST_USER_ID, type Emulator } from '../../../emulator/server.ts';
import { startGraphServerProcess } from '../../support/graph-server.ts';
import type { ServerProcess } from '../../support/server-process.ts';
import { callOnce, legacyClient, textOf } from '../../support/graph-write-clients.ts';

/**
 * The write tools on behalf of the signed-in user, through the real server
 * against the emulated Graph, with GRAPH_WRITE_CONFIRMATION=none (the
 * confirmation itself: write-confirmation.test.ts): what reaches Graph,
 * what the recipients get (marker, sanitized HTML), a POST never re-sent
 * after a 503 but re-sent after a 429, and audit events without content.
 */
const { mark8, sales } = SAMPLE.teams;
const GENERAL = SAMPLE.channels.mark8General;
const MESSAGES = `/teams/${mark8}/channels/${encodeURIComponent(GENERAL)}/messages`;
const MARKER = '<p><em>Sent by an AI assistant on behalf of Test User.</em></p>';

let emulator: Emulator;
let server: ServerProcess;
let token: string;
before(async () => {
  emulator = await startEmulator();
  server = await startGraphServerProcess(emulator, 'onBehalfOf', {
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
const posts = (prefix: string) => emulator.graph.calls.filter((entry) => entry.method === 'POST' && entry.path.startsWith(prefix));
const lastAudit = () => server.auditLines().filter((line) => line.event === 'mcp.tool.call').at(-1)!;
const general = () => emulator.graph.tenant.teams.find((team) => team.id === mark8)!.channels.find((channel) => channel.id === GENERAL)!;

describe('graph_channel_message_send', () => {
  test('posts sanitized HTML with the marker; raw HTML in the content does not survive', async () => {
    const result = await call('graph_channel_message_send', { teamId: mark8, channelId: GENERAL, content: 'Release *today* <img src=x onerror=alert(1)>' });
    assert.equal(result.structuredContent?.status, 'sent', textOf(result));
    const posted = general().messages.at(-1)!;
    assert.equal(posted.body.contentType, 'html');
    assert.equal(posted.body.content, `<p>Release <em>today</em> </p>${MARKER}`);
    assert.equal(posts(MESSAGES).length, 1);
    const audit = lastAudit();
    assert.deepEqual([audit.outcome, audit.target, audit.downstreamIdentity, audit.readOnly], ['success', 'graph:/teams/{teamId}/channels/{channelId}/messages', 'onBehalfOf', 'false']);
    assert.ok(!JSON.stringify(audit).includes('Release'), JSON.stringify(audit));
  });

  test('a reply goes to the root message\'s replies, and the parent is never read', async () => {
    const root = general().messages[0]!;
    const result = await call('graph_channel_message_send', { teamId: mark8, channelId: GENERAL, content: 'Agreed', format: 'text', replyToMessageId: root.id });
    assert.equal(result.structuredContent?.status, 'sent', textOf(result));
    assert.deepEqual(emulator.graph.calls.map((entry) => [entry.method, entry.path]), [['POST', `${MESSAGES}/${root.id}/replies`]]);
    assert.equal(root.replies.at(-1)!.body.content, `<p>Agreed</p>${MARKER}`);
    assert.equal(lastAudit().target, 'graph:/teams/{teamId}/channels/{channelId}/messages/{messageId}/replies');
  });

  test('a 503 on the POST: sent exactly once, and the error says it may have been posted and how to check', async () => {
    emulator.graph.throttleNext(1, 0, { method: 'POST', status: 503, pathPrefix: `/teams/${mark8}/channels` });
    const result = await call('graph_channel_message_send', { teamId: mark8, channelId: GENERAL, content: 'Only once' });
    assert.equal(result.isError, true);
    const text = textOf(result);
    assert.match(text, /503/);
    assert.match(text, /may or may not have been carried out/);
    assert.match(text, /Do not call graph_channel_message_send again yet\. Look at the channel in Teams/);
    assert.match(text, /Upstream request id: [0-9a-f-]{36}/);
    assert.equal(posts(MESSAGES).length, 1, 'the POST was not re-sent');
    assert.equal(lastAudit().errorClass, 'upstream_error');
  });

  test('a 429 on the POST is retried once after Retry-After, and posts one message', async () => {
    const before = general().messages.length;
    emulator.graph.throttleNext(1, 1, { method: 'POST', pathPrefix: `/teams/${mark8}/channels` });
    const result = await call('graph_channel_message_send', { teamId: mark8, channelId: GENERAL, content: 'After the throttle' });
    assert.equal(result.structuredContent?.status, 'sent', textOf(result));
    assert.deepEqual(posts(MESSAGES).map((entry) => entry.status), [429, 201]);
    assert.equal(emulator.graph.earlyRetries.length, 0, 'Retry-After was honoured');
    assert.equal(general().messages.length, before + 1);
  });

  test('content that is only unsafe HTML, and a channel id of another shape, are refused before Graph', async () => {
    const empty = await call('graph_channel_message_send', { teamId: mark8, channelId: GENERAL, content: '<script>x()</script>' });
    assert.match(textOf(empty), /Nothing is left to send/);
    const bad = await call('graph_channel_message_send', { teamId: mark8, channelId: 'General', content: 'hi' });
    assert.match(textOf(bad), /channelId: must be a channel id/);
    assert.equal(emulator.graph.calls.length, 0);
  });
});

test('graph_chat_message_send posts to /chats/{id}/messages with the marker', async () => {
  const chatId = SAMPLE.chats.withMegan;
  const result = await call('graph_chat_message_send', { chatId, content: 'See you at **3**' });
  assert.equal(result.structuredContent?.status, 'sent', textOf(result));
  assert.deepEqual(emulator.graph.calls.map((entry) => [entry.method, entry.path]), [['POST', `/chats/${encodeURIComponent(chatId)}/messages`]]);
  const chat = emulator.graph.tenant.chats.find((candidate) => candidate.id === chatId)!;
  assert.equal(chat.messages.at(-1)!.body.content, `<p>See you at <strong>3</strong></p>${MARKER}`);
  assert.equal(lastAudit().target, 'graph:/chats/{chatId}/messages');
});

test('graph_mail_send sends through /me/sendMail (202) to each recipient; the audit has no address or subject', async () => {
  const result = await call('graph_mail_send', { to: ['megan.bowen@emulator.localhost', 'adele.vance@emulator.localhost'], cc: ['alex.wilber@emulator.localhost'], subject: 'Pricing deck', body: 'Attached **soon**.' });
  assert.equal(result.structuredContent?.status, 'sent', textOf(result));
  assert.equal(result.structuredContent?.recipients, 3);
  assert.deepEqual(emulator.graph.calls.map((entry) => [entry.method, entry.path, entry.status]), [['POST', '/me/sendMail', 202]]);
  const sent = emulator.graph.tenant.sentMail.at(-1)!;
  assert.equal(sent.fromUserId, TEST_USER_ID);
  assert.equal(sent.message.subject, 'Pricing deck');
  assert.equal(sent.message.body.content, `<p>Attached <strong>soon</strong>.</p>${MARKER}`);
  assert.deepEqual(sent.message.ccRecipients.map((r) => r.address), ['alex.wilber@emulator.localhost']);
  const audit = JSON.stringify(lastAudit());
  for (const secret of ['megan.bowen', 'adele.vance', 'alex.wilber', 'Pricing deck', 'soon']) assert.ok(!audit.includes(secret), `${secret} not in ${audit}`);
  const invalid = await call('graph_mail_send', { to: ['not-an-address'], subject: 's', body: 'b' });
  assert.match(textOf(invalid), /to\.0: must be an email address/);
  const none = await call('graph_mail_send', { to: [], subject: 's', body: 'b' });
  assert.equal(none.isError, true);
});

test('graph_event_create creates an online meeting with attendees in the caller\'s calendar', async () => {
  const result = await call('graph_event_create', { subject: 'Launch review', start: '2026-12-03T14:00', end: '2026-12-03T15:00', timeZone: 'UTC', attendees: ['megan.bowen@emulator.localhost'], online: true, location: 'Room 1', body: 'Agenda: *risks*' });
  assert.equal(result.structuredContent?.status, 'created', textOf(result));
  assert.match(String(result.structuredContent?.joinUrl), /^https:\/\/teams\.microsoft\.com\//);
  assert.deepEqual(emulator.graph.calls.map((entry) => [entry.method, entry.path]), [['POST', '/me/events']]);
  const event = emulator.graph.tenant.calendar(TEST_USER_ID).find((candidate) => candidate.id === result.structuredContent?.eventId)!;
  assert.equal(event.start, '2026-12-03T14:00:00.000Z');
  assert.deepEqual(event.attendees.map((attendee) => attendee.address), ['megan.bowen@emulator.localhost']);
  assert.ok(event.body.content.endsWith(MARKER), event.body.content);
  const backwards = await call('graph_event_create', { subject: 'x', start: '2026-12-03T15:00', end: '2026-12-03T14:00' });
  assert.match(textOf(backwards), /end must be after start/);
});

describe('admin tools', () => {
  test('graph_team_create polls the operation to success and returns the team id', async () => {
    emulator.graph.setTeamCreation({ pendingPolls: ['notStarted', 'inProgress'] });
    const result = await call('graph_team_create', { displayName: 'Mark 9', description: 'Next drone' });
    assert.equal(result.structuredContent?.status, 'created', textOf(result));
    const teamId = result.structuredContent?.teamId as string;
    assert.ok(emulator.graph.tenant.teams.some((team) => team.id === teamId && team.displayName === 'Mark 9'));
    const polls = emulator.graph.calls.filter((entry) => entry.method === 'GET' && entry.path.startsWith(`/teams/${teamId}/operations/`));
    assert.equal(polls.length, 3);
    assert.deepEqual(posts('/teams').map((entry) => [entry.path, entry.status]), [['/teams', 202]]);
    assert.equal(lastAudit().target, 'graph:/teams');
  });

  test('graph_team_create answers "pending" with the operation when provisioning takes longer', async () => {
    emulator.graph.setTeamCreation({ pendingPolls: Array(10).fill('inProgress') });
    const result = await call('graph_team_create', { displayName: 'Slow team' });
    assert.equal(result.structuredContent?.status, 'pending', textOf(result));
    assert.equal(result.structuredContent?.operationStatus, 'inProgress');
    assert.match(textOf(result), /Do not create it again/);
    assert.ok(result.structuredContent?.operationId);
    assert.equal(posts('/teams').length, 1);
    assert.ok(!emulator.graph.tenant.teams.some((team) => team.displayName === 'Slow team'), 'not visible until the operation succeeds');
  });

  test('graph_team_member_add adds by UPN as owner, and a second add is a conflict', async () => {
    const result = await call('graph_team_member_add', { teamId: sales, user: 'nestor.wilke@emulator.localhost', role: 'owner' });
    assert.equal(result.structuredContent?.status, 'added', textOf(result));
    assert.deepEqual(result.structuredContent?.roles, ['owner']);
    assert.deepEqual(emulator.graph.calls.map((entry) => [entry.method, entry.path, entry.status]), [['POST', `/teams/${sales}/members`, 201]]);
    const again = await call('graph_team_member_add', { teamId: sales, user: 'nestor.wilke@emulator.localhost' });
    assert.equal(again.isError, true);
    assert.match(textOf(again), /409/);
  });

  test('graph_channel_create creates a private channel; a name over 50 characters is refused before Graph', async () => {
    const result = await call('graph_channel_create', { teamId: sales, displayName: 'Pricing war room', membershipType: 'private' });
    assert.equal(result.structuredContent?.status, 'created', textOf(result));
    const channel = emulator.graph.tenant.teams.find((team) => team.id === sales)!.channels.find((candidate) => candidate.id === result.structuredContent?.channelId)!;
    assert.equal(channel.membershipType, 'private');
    assert.ok(channel.memberIds.includes(TEST_USER_ID));
    emulator.graph.reset();
    const long = await call('graph_channel_create', { teamId: sales, displayName: 'x'.repeat(51) });
    assert.match(textOf(long), /at most 50 characters/);
    const slash = await call('graph_channel_create', { teamId: sales, displayName: 'a/b' });
    assert.match(textOf(slash), /must not contain/);
    assert.equal(emulator.graph.calls.length, 0);
  });
});
