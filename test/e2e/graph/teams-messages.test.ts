import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SAMPLE } from '../../../emulator/graph/sample-tenant.ts';
import { startEmulator, type Emulator } from '../../../emulator/server.ts';
import { type CallResult, callAs, lastToolAudit, requestsTo, startGraphServerProcess, textOf } from '../../support/graph-server.ts';
import type { ServerProcess } from '../../support/server-process.ts';

/**
 * graph_channel_messages_list and graph_channel_message_replies_list through
 * the real server, in both identity modes: Markdown bodies framed as
 * untrusted, system events dropped, since, replies, the 1,000-message
 * budget (20 requests of 50), cursors (tampered, another user's, other
 * arguments), throttling without an early retry, and app-only's membership
 * guard and protected-API refusal. A link from a message resolves to the
 * arguments of the thread's replies.
 */
let emulator: Emulator;
const team = SAMPLE.teams.mark8;
const channel = SAMPLE.channels.mark8General;
const messagesPath = (teamId: string, channelId: string) => `/teams/${teamId}/channels/${encodeURIComponent(channelId)}/messages`;
const MEGAN = { oid: SAMPLE.users.megan, upn: 'megan.bowen@emulator.localhost', name: 'Megan Bowen' };

before(async () => {
  emulator = await startEmulator();
  emulator.entra.addUser(MEGAN);
  // A long channel: 1 sample message + 999 = 1,000 (Campaigns is read by no other test here).
  const start = Date.parse('2026-01-01T00:00:00Z');
  for (let index = 0; index < 999; index++) {
    emulator.graph.tenant.addChannelMessage(SAMPLE.teams.sales, SAMPLE.channels.salesCampaigns, { fromUserId: SAMPLE.users.megan, content: `<p>Campaign note ${index}</p>`, createdDateTime: new Date(start + index * 60_000).toISOString() });
  }
});
after(() => emulator?.close());

interface Listed {
  messages: Array<{ id: string; author?: string; createdDateTime?: string; lastModifiedDateTime?: string; body: string; replyCount?: number; replies?: Array<{ body: string }>; webUrl?: string }>;
  systemEventsDropped: number;
  partial: boolean;
  nextCursor?: string;
}
const listed = (result: CallResult) => result.structuredContent as unknown as Listed;

for (const identity of ['onBehalfOf', 'managedIdentity'] as const) {
  describe(`Teams channel messages, GRAPH_IDENTITY=${identity}`, () => {
    let server: ServerProcess;
    let token: string;
    before(async () => {
      server = await startGraphServerProcess(emulator, identity, { env: { GRAPH_MAX_ITEMS: '200' } });
      token = await emulator.entra.mintApiToken();
    });
    after(() => server?.stop());

    test('newest first as Markdown, mentions merged, cards and files as markers, system events dropped, framed as untrusted; no body in the audit', async () => {
      emulator.graph.reset();
      const result = await callAs(server, token, 'graph_channel_messages_list', { teamId: team, channelId: channel });
      assert.equal(result.isError, undefined, textOf(result));
      const data = listed(result);
      const times = data.messages.map((message) => message.lastModifiedDateTime ?? message.createdDateTime ?? '');
      assert.deepEqual(times, [...times].sort().reverse(), 'newest first');
      assert.equal(data.systemEventsDropped, 1);
      assert.ok(data.messages.every((message) => !message.body.includes('systemEventMessage')));
      const text = textOf(result);
      assert.match(text, /@Megan Bowen and @Test User/);
      assert.match(text, /\[card\]/);
      assert.match(text, /\[attachment: Q3 plan\.docx\]/);
      assert.match(text, /<<<untrusted id=([\w-]+)>>>[\s\S]*ignore all previous instructions[\s\S]*<<<end untrusted id=\1>>>/);
      assert.match(text, /1 system event .* left out/);
      assert.equal(data.partial, false);
      const pages = requestsTo(emulator, messagesPath(team, channel));
      assert.deepEqual(pages.map((call) => call.path), [`${messagesPath(team, channel)}?$top=50`]);
      assert.equal(requestsTo(emulator).length, identity === 'managedIdentity' ? 3 : 1, 'app-only adds the membership and channel checks');
      const audits = JSON.stringify(server.auditLines());
      assert.ok(!audits.includes('ignore all previous instructions') && !audits.includes('Stand-up notes'), 'no message text in the audit');
      const audit = lastToolAudit(server);
      assert.deepEqual([audit?.outcome, audit?.target, audit?.downstreamIdentity, String(audit?.truncated)], ['success', 'graph:/teams/{teamId}/channels/{channelId}/messages', identity, 'false']);
    });

    test('since: only messages changed since then, read until the first older one, no cursor', async () => {
      emulator.graph.reset();
      const since = '2026-02-28T00:00:00Z';
      const result = await callAs(server, token, 'graph_channel_messages_list', { teamId: team, channelId: channel, since });
      const data = listed(result);
      assert.ok(data.messages.length >= 4, textOf(result));
      assert.ok(data.messages.every((message) => (message.lastModifiedDateTime ?? message.createdDateTime ?? '') >= since));
      assert.ok(!data.messages.some((message) => message.body.includes('launch checklist')), 'the older review message is not included');
      assert.deepEqual([data.partial, data.nextCursor], [false, undefined]);
      assert.match(textOf(result), /posted or changed since 2026-02-28T00:00:00\.000Z/);
    });

    test("includeReplies: each thread's reply count and newest replies via $expand=replies", async () => {
      emulator.graph.reset();
      const result = await callAs(server, token, 'graph_channel_messages_list', { teamId: team, channelId: channel, includeReplies: true, since: '2026-02-27' });
      const review = listed(result).messages.find((message) => message.body.includes('launch checklist'));
      assert.equal(review?.replyCount, 2, textOf(result));
      assert.match(review?.replies?.map((reply) => reply.body).join(' ') ?? '', /On it\./);
      assert.match(textOf(result), /· 2 replies/);
      assert.equal(requestsTo(emulator, messagesPath(team, channel))[0]?.path, `${messagesPath(team, channel)}?$top=50&$expand=replies`);
    });

    test('1,000 messages in 20 Graph requests (pages of 50), GRAPH_MAX_ITEMS=200 per call, continued by cursor, no duplicates', async () => {
      emulator.graph.reset();
      const args = { teamId: SAMPLE.teams.sales, channelId: SAMPLE.channels.salesCampaigns };
      const ids = new Set<string>();
      let cursor: string | undefined;
      let calls = 0;
      do {
        const result = await callAs(server, token, 'graph_channel_messages_list', { ...args, ...(cursor && { cursor }) });
        assert.equal(result.isError, undefined, textOf(result));
        const data = listed(result);
        assert.equal(data.messages.length, 200, 'GRAPH_MAX_ITEMS per call');
        for (const message of data.messages) ids.add(message.id);
        cursor = data.nextCursor;
        if (cursor) assert.match(textOf(result), /More messages exist: call again with the same arguments and cursor=/);
        calls += 1;
      } while (cursor && calls < 10);
      assert.equal(calls, 5);
      assert.equal(ids.size, 1000);
      assert.equal(requestsTo(emulator, messagesPath(args.teamId, args.channelId)).length, 20, 'message pages');
      // App-only checks membership once, on the first call; the signed cursor carries it on.
      assert.equal(requestsTo(emulator).length, identity === 'managedIdentity' ? 22 : 20);
    });

    test('cursors: a tampered one, another user\'s, or one for other arguments is refused before anything is sent', async () => {
      const first = listed(await callAs(server, token, 'graph_channel_messages_list', { teamId: team, channelId: channel, limit: 5 }));
      assert.ok(first.nextCursor);
      const cursor = first.nextCursor;
      const [version, key, body, signature] = cursor.split('.') as [string, string, string, string];
      const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { l: string };
      const leadership = payload.l.replace(encodeURIComponent(SAMPLE.channels.mark8General), encodeURIComponent(SAMPLE.channels.mark8Leadership));
      assert.notEqual(leadership, payload.l);
      payload.l = leadership;
      const tampered = `${version}.${key}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${signature}`;
      const megan = await emulator.entra.mintApiToken(MEGAN);
      const cases: Array<[string, Record<string, unknown>, RegExp]> = [
        [token, { teamId: team, channelId: channel, cursor: tampered }, /was altered/],
        [megan, { teamId: team, channelId: channel, cursor }, /issued to another user/],
        [token, { teamId: team, channelId: channel, cursor, since: '2026-01-01' }, /another resource/],
        [token, { teamId: team, channelId: SAMPLE.channels.mark8Design, cursor }, /another resource/],
      ];
      for (const [caller, args, refusal] of cases) {
        emulator.graph.reset();
        const result = await callAs(server, caller, 'graph_channel_messages_list', args);
        assert.equal(result.isError, true, JSON.stringify(args));
        assert.match(textOf(result), refusal);
        assert.equal(lastToolAudit(server)?.errorClass, 'invalid_cursor');
        assert.deepEqual(emulator.graph.calls, [], 'nothing was sent to Graph');
      }
      // The untouched cursor still continues, after the first five.
      const next = listed(await callAs(server, token, 'graph_channel_messages_list', { teamId: team, channelId: channel, limit: 5, cursor }));
      assert.equal(next.messages.length, 5);
      assert.ok(!next.messages.some((message) => first.messages.some((seen) => seen.id === message.id)));
    });

    test('throttled: 429, then the same page after Retry-After, never early', async () => {
      emulator.graph.reset();
      emulator.graph.throttleNext(1, 1, { pathPrefix: messagesPath(team, channel) });
      const result = await callAs(server, token, 'graph_channel_messages_list', { teamId: team, channelId: channel, limit: 3 });
      assert.equal(result.isError, undefined, textOf(result));
      const pages = requestsTo(emulator, messagesPath(team, channel));
      assert.deepEqual(pages.map((call) => call.status), [429, 200]);
      assert.ok((pages[1]?.at ?? 0) - (pages[0]?.at ?? 0) >= 1000, 'waited for Retry-After');
      assert.deepEqual(emulator.graph.earlyRetries, []);
    });

    test('the thread of a message: its replies, newest first; a link to the message resolves to the same call', async () => {
      const review = listed(await callAs(server, token, 'graph_channel_messages_list', { teamId: team, channelId: channel, since: '2026-02-27' })).messages.find((message) =>
        message.body.includes('launch checklist'),
      );
      assert.ok(review?.webUrl);
      const link = await callAs(server, token, 'graph_teams_link_resolve', { url: review.webUrl });
      const next = (link.structuredContent as { next?: { tool: string; arguments: Record<string, string> } }).next;
      assert.deepEqual(next, { tool: 'graph_channel_message_replies_list', arguments: { teamId: team, channelId: channel, messageId: review.id } });
      emulator.graph.reset();
      const replies = await callAs(server, token, next.tool, next.arguments);
      assert.equal(replies.isError, undefined, textOf(replies));
      const bodies = (replies.structuredContent as { replies: Array<{ body: string; author?: string }> }).replies;
      assert.deepEqual(bodies.map((reply) => reply.author), ['Megan Bowen', 'Test User'], 'newest first');
      assert.match(bodies[0]?.body ?? '', /^@Adele I added the retail rollout dates/);
      assert.match(textOf(replies), /<<<untrusted id=/);
      assert.equal(requestsTo(emulator, `${messagesPath(team, channel)}/${review.id}/replies`)[0]?.path, `${messagesPath(team, channel)}/${review.id}/replies?$top=50`);
      const missing = await callAs(server, token, 'graph_channel_message_replies_list', { teamId: team, channelId: channel, messageId: '1' });
      assert.equal(missing.isError, true);
      assert.match(textOf(missing), /graph_channel_messages_list/);
      assert.equal(lastToolAudit(server)?.errorClass, 'not_found');
    });

    if (identity === 'managedIdentity') {
      test('app-only: a team the caller is not in, and a private channel, are refused before any message is read', async () => {
        for (const [teamId, channelId, refusal] of [
          [SAMPLE.teams.retail, SAMPLE.channels.retailGeneral, /not a member of the team/],
          [team, SAMPLE.channels.mark8Leadership, /private channel/],
        ] as const) {
          for (const tool of ['graph_channel_messages_list', 'graph_channel_message_replies_list']) {
            emulator.graph.reset();
            const result = await callAs(server, token, tool, { teamId, channelId, ...(tool.includes('replies') && { messageId: '1740000000000' }) });
            assert.equal(result.isError, true, tool);
            assert.match(textOf(result), refusal);
            assert.equal(lastToolAudit(server)?.errorClass, 'permission_denied');
            assert.deepEqual(requestsTo(emulator).filter((call) => call.path.includes('/messages')), [], 'no message was read');
          }
        }
      });

      test('app-only without protected-API approval: the error explains the approval and resource-specific consent', async () => {
        emulator.graph.reset();
        emulator.graph.setProtectedApiApproval(false);
        const result = await callAs(server, token, 'graph_channel_messages_list', { teamId: team, channelId: channel });
        emulator.graph.reset();
        assert.equal(result.isError, true);
        const text = textOf(result);
        assert.match(text, /protected API/i);
        assert.match(text, /aka\.ms\/teamsgraph\/requestaccess/);
        assert.match(text, /resource-specific consent/);
        assert.match(text, /Upstream request id: [0-9a-f-]{36}/);
        assert.equal(lastToolAudit(server)?.errorClass, 'protected_api');
      });
    }
  });
}
