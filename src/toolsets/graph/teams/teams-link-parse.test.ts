import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFully, parseTeamsLink, TeamsLinkError } from './teams-link-parse.ts';

const TEAM = '1e2f0000-0000-4000-8000-00000000a001';
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CHANNEL = '19:mark8general0000000000000000000@thread.tacv2';
const enc = encodeURIComponent;

describe('parseTeamsLink', () => {
  test('a channel message link ("Copy link"): team, channel, message, and the thread to read next', () => {
    const link = `https://teams.microsoft.com/l/message/${enc(CHANNEL)}/1740960000000?tenantId=${TENANT}&groupId=${TEAM}&parentMessageId=1740960000000&teamName=Mark%208&channelName=General&createdTime=1740960000000`;
    const parsed = parseTeamsLink(link);
    assert.equal(parsed.kind, 'channelMessage');
    assert.deepEqual(parsed.ids, { tenantId: TENANT, messageId: '1740960000000', channelId: CHANNEL, threadMessageId: '1740960000000', teamId: TEAM });
    assert.deepEqual(parsed.next, { tool: 'graph_channel_message_replies_list', arguments: { teamId: TEAM, channelId: CHANNEL, messageId: '1740960000000' } });
  });

  test('a reply link: the thread is its parentMessageId, and the note says so', () => {
    const parsed = parseTeamsLink(`https://teams.microsoft.com/l/message/${enc(CHANNEL)}/1740960999999?groupId=${TEAM}&parentMessageId=1740960000000`);
    assert.equal(parsed.ids.messageId, '1740960999999');
    assert.equal(parsed.ids.threadMessageId, '1740960000000');
    assert.equal(parsed.next?.arguments.messageId, '1740960000000');
    assert.match(parsed.notes.join(' '), /reply in the thread started by message 1740960000000/);
  });

  test('ids encoded twice, lower-case hex, or not at all, all come out the same', () => {
    for (const id of [CHANNEL, enc(CHANNEL), enc(enc(CHANNEL)), enc(CHANNEL).replace(/%3A/g, '%3a').replace(/%40/g, '%40')]) {
      assert.equal(parseTeamsLink(`https://teams.microsoft.com/l/channel/${id}/General?groupId=${TEAM}`).ids.channelId, CHANNEL, id);
    }
    assert.equal(decodeFully('19%253a'), '19:');
    assert.equal(decodeFully('100%'), '100%', 'undecodable text stays');
  });

  test('a channel link without groupId: the channel id, no next call, and how to find the team', () => {
    const parsed = parseTeamsLink(`https://teams.microsoft.com/l/channel/${enc(CHANNEL)}/General?tenantId=${TENANT}`);
    assert.equal(parsed.kind, 'channel');
    assert.equal(parsed.ids.channelId, CHANNEL);
    assert.equal(parsed.ids.teamId, undefined);
    assert.equal(parsed.next, undefined);
    assert.deepEqual(parsed.names, { channel: 'General' });
    assert.match(parsed.notes.join(' '), /no groupId.*graph_teams_list/);
  });

  test('a channel link with a groupId that is no GUID: noted, not passed on', () => {
    const parsed = parseTeamsLink(`https://teams.microsoft.com/l/channel/${enc(CHANNEL)}/General?groupId=../../users`);
    assert.equal(parsed.ids.teamId, undefined);
    assert.equal(parsed.next, undefined);
  });

  test('a team link names the team by groupId, and its thread id', () => {
    const parsed = parseTeamsLink(`https://teams.microsoft.com/l/team/${enc('19:abc0000000000000000000000000000@thread.tacv2')}/conversations?groupId=${TEAM}&tenantId=${TENANT}`);
    assert.equal(parsed.kind, 'team');
    assert.deepEqual(parsed.next, { tool: 'graph_team_channels_list', arguments: { teamId: TEAM } });
  });

  test('chat links: a chat message (by chat id or chat context), a chat, and a new-chat link with users', () => {
    const chat = '19:launchlogistics000000000000000000@thread.v2';
    const message = parseTeamsLink(`https://teams.microsoft.com/l/message/${enc(chat)}/1740000000000?context=${enc('{"contextType":"chat"}')}`);
    assert.deepEqual([message.kind, message.ids.chatId, message.ids.messageId, message.next?.tool], ['chatMessage', chat, '1740000000000', 'graph_chat_messages_list']);
    const oneToOne = '19:5a3b0000-0000-4000-8000-000000000001_5a3b0000-0000-4000-8000-000000000002@unq.gbl.spaces';
    assert.equal(parseTeamsLink(`https://teams.cloud.microsoft/l/chat/${enc(oneToOne)}/conversations`).ids.chatId, oneToOne);
    const created = parseTeamsLink('https://teams.microsoft.com/l/chat/0/0?users=ada@contoso.com,lin@contoso.com&topicName=Launch');
    assert.deepEqual([created.kind, created.users, created.next], ['newChat', ['ada@contoso.com', 'lin@contoso.com'], undefined]);
  });

  test('a channel id with chat context stays a channel message only when the context does not say chat', () => {
    const parsed = parseTeamsLink(`https://teams.microsoft.com/l/message/${enc(CHANNEL)}/1740000000000?groupId=${TEAM}`);
    assert.equal(parsed.kind, 'channelMessage');
  });

  test('meeting links: the meeting chat, organizer and tenant from context; also through the launcher', () => {
    const thread = '19:meeting_NGQ5YzRhZjUtYjE0Ny00ZTQ3@thread.v2';
    const context = enc(JSON.stringify({ Tid: TENANT, Oid: '5a3b0000-0000-4000-8000-000000000001' }));
    const direct = parseTeamsLink(`https://teams.microsoft.com/l/meetup-join/${enc(thread)}/0?context=${context}`);
    assert.equal(direct.kind, 'meeting');
    assert.deepEqual(direct.ids, { chatId: thread, organizerId: '5a3b0000-0000-4000-8000-000000000001', tenantId: TENANT });
    assert.deepEqual(direct.next, { tool: 'graph_chat_messages_list', arguments: { chatId: thread } });
    const launcher = `https://teams.microsoft.com/dl/launcher/launcher.html?url=${enc(`/_#/l/meetup-join/${enc(thread)}/0?context=${context}&anon=true`)}&type=meetup-join&deeplinkId=abc`;
    assert.deepEqual(parseTeamsLink(launcher).ids, direct.ids);
    const byNumber = parseTeamsLink('https://teams.microsoft.com/meet/2345678901234?p=abcdEFGH');
    assert.deepEqual([byNumber.kind, byNumber.next], ['meetingById', undefined]);
  });

  test('an Outlook Safe Links wrapper is unwrapped', () => {
    const inner = `https://teams.microsoft.com/l/channel/${enc(CHANNEL)}/General?groupId=${TEAM}`;
    const wrapped = `https://nam06.safelinks.protection.outlook.com/?url=${enc(inner)}&data=05%7C02&reserved=0`;
    assert.equal(parseTeamsLink(wrapped).ids.teamId, TEAM);
  });

  test('refused: other hosts (lookalikes included), http, credentials in the URL, unknown kinds, bad ids, not a URL', () => {
    const refusals: Array<[string, RegExp]> = [
      [`https://teams.microsoft.com.evil.example/l/channel/${enc(CHANNEL)}/General?groupId=${TEAM}`, /not a Microsoft Teams host/],
      [`https://evil.example/l/channel/${enc(CHANNEL)}/x`, /not a Microsoft Teams host/],
      [`https://nam06.safelinks.protection.outlook.com/?url=${enc('https://evil.example/l/chat/x')}`, /not a Microsoft Teams host/],
      [`http://teams.microsoft.com/l/channel/${enc(CHANNEL)}/General`, /https/],
      [`https://user:pw@teams.microsoft.com/l/channel/${enc(CHANNEL)}/General`, /user name or password/],
      ['https://teams.microsoft.com/l/app/abc', /not one this tool resolves/],
      ['https://teams.microsoft.com/_#/conversations', /does not start with \/l\//],
      ['https://teams.microsoft.com/l/channel/General/General', /no valid channel id/],
      [`https://teams.microsoft.com/l/message/${enc(CHANNEL)}/abc`, /no valid message id/],
      ['https://teams.microsoft.com/l/message/hello/1740000000000', /neither a channel/],
      ['teams.microsoft.com/l/channel/x', /not a URL/],
    ];
    for (const [link, message] of refusals) {
      assert.throws(() => parseTeamsLink(link), (error: unknown) => error instanceof TeamsLinkError && message.test(error.message), link);
    }
  });
});
