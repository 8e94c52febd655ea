import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Emulator } from '../server.ts';
import { TEST_USER_ID } from '../server.ts';
import { SAMPLE } from './sample-tenant.ts';
import { appToken, delegatedToken, graph, graphEmulator } from './test-support.ts';

let emulator: Emulator;
let userToken: string;
const general = () => `/teams/${SAMPLE.teams.mark8}/channels/${encodeURIComponent(SAMPLE.channels.mark8General)}`;

before(async () => {
  emulator = await graphEmulator();
  userToken = await delegatedToken(emulator, 'User.Read Team.ReadBasic.All Channel.ReadBasic.All ChannelMessage.Read.All ChannelMessage.Send Chat.Read ChatMessage.Send Presence.Read.All Mail.Read Mail.Send Calendars.ReadWrite Files.Read.All Team.Create TeamMember.ReadWrite.All Channel.Create');
});
beforeEach(() => emulator.graph.reset());
after(() => emulator.close());

describe('Graph Teams', () => {
  it('lists joined teams with only the documented properties filled', async () => {
    const answer = await graph(emulator, userToken, 'GET', '/me/joinedTeams');
    const ids = answer.body.value.map((team: { id: string }) => team.id);
    assert.ok(ids.includes(SAMPLE.teams.mark8) && !ids.includes(SAMPLE.teams.retail));
    const team = answer.body.value.find((candidate: { id: string }) => candidate.id === SAMPLE.teams.mark8);
    assert.equal(team.displayName, 'Mark 8 Project Team');
    assert.equal(team.visibility, null);
    assert.equal(team.webUrl, null);
  });

  it('pages channel messages 20 at a time, refuses $top above 50, and hides system events unless asked', async () => {
    const first = await graph(emulator, userToken, 'GET', `${general()}/messages`);
    assert.equal(first.body.value.length, 20);
    assert.ok(first.body['@odata.nextLink']);
    const modified = first.body.value.map((message: { lastModifiedDateTime: string }) => message.lastModifiedDateTime);
    assert.deepEqual(modified, [...modified].sort().reverse());
    assert.equal((await graph(emulator, userToken, 'GET', `${general()}/messages?$top=51`)).status, 400);
    const all = await graph(emulator, userToken, 'GET', `${general()}/messages?$top=50&$expand=replies`);
    const system = all.body.value.find((message: { body: { content: string } }) => message.body.content === '<systemEventMessage/>');
    assert.equal(system.messageType, 'unknownFutureValue');
    const withReplies = all.body.value.find((message: { replies: unknown[] }) => message.replies.length > 1);
    assert.ok(withReplies.replies.every((reply: { replyToId: string }) => reply.replyToId === withReplies.id));
    const preferred = await graph(emulator, userToken, 'GET', `${general()}/messages?$top=50`, { headers: { Prefer: 'include-unknown-enum-members' } });
    assert.ok(preferred.body.value.some((message: { messageType: string }) => message.messageType === 'systemEventMessage'));
    const mention = all.body.value.find((message: { mentions: unknown[] }) => message.mentions.length > 0);
    assert.match(mention.body.content, /<at id="0">/);
    assert.equal(mention.mentions[0].mentioned.user.userIdentityType, 'aadUser');
  });

  it('refuses delegated reads of a team the user is not in, and app-only reads until the protected API is approved', async () => {
    assert.equal((await graph(emulator, userToken, 'GET', `/teams/${SAMPLE.teams.retail}/channels`)).status, 403);
    const app = await appToken(emulator, ['ChannelMessage.Read.All']);
    assert.equal((await graph(emulator, app, 'GET', `${general()}/messages`)).status, 200);
    emulator.graph.setProtectedApiApproval(false);
    const refused = await graph(emulator, app, 'GET', `${general()}/messages`);
    assert.equal(refused.status, 403);
    assert.match(refused.body.error.message, /Protected API access/);
  });

  it('posts channel messages and replies for delegated callers only (app-only: 403 without the migration role, 401 with it)', async () => {
    const posted = await graph(emulator, userToken, 'POST', `${general()}/messages`, { body: { body: { contentType: 'html', content: '<p>Hello</p>' } } });
    assert.equal(posted.status, 201);
    assert.equal(posted.body.from.user.id, TEST_USER_ID);
    const reply = await graph(emulator, userToken, 'POST', `${general()}/messages/${posted.body.id}/replies`, { body: { body: { content: 'Re' } } });
    assert.equal(reply.status, 201);
    assert.equal(reply.body.replyToId, posted.body.id);
    const app = await appToken(emulator, ['ChannelMessage.Read.All', 'ChannelMessage.Send']);
    assert.equal((await graph(emulator, app, 'POST', `${general()}/messages`, { body: { body: { content: 'x' } } })).status, 403);
    const migrator = await appToken(emulator, ['Teamwork.Migrate.All']);
    assert.equal((await graph(emulator, migrator, 'POST', `${general()}/messages`, { body: { body: { content: 'x' } } })).status, 401);
  });

  it('creates a team asynchronously: 202 with Location, polled notStarted, inProgress, then succeeded', async () => {
    const created = await graph(emulator, userToken, 'POST', '/teams', { body: { 'template@odata.bind': "https://graph.microsoft.com/v1.0/teamsTemplates('standard')", displayName: 'Launch war room' } });
    assert.equal(created.status, 202);
    const location = created.headers.get('location') ?? '';
    const match = /^\/teams\('([^']+)'\)\/operations\('([^']+)'\)$/.exec(location);
    assert.ok(match, location);
    assert.equal(created.headers.get('content-location'), `/teams('${match[1]}')`);
    assert.equal((await graph(emulator, userToken, 'GET', `/teams/${match[1]}`)).status, 404);
    const statuses = [];
    for (let poll = 0; poll < 3; poll += 1) statuses.push((await graph(emulator, userToken, 'GET', location)).body.status);
    assert.deepEqual(statuses, ['notStarted', 'inProgress', 'succeeded']);
    assert.equal((await graph(emulator, userToken, 'GET', `/teams/${match[1]}`)).body.displayName, 'Launch war room');
    const app = await appToken(emulator, ['Team.Create']);
    const ownerless = await graph(emulator, app, 'POST', '/teams', { body: { 'template@odata.bind': "https://graph.microsoft.com/v1.0/teamsTemplates('standard')", displayName: 'No owner' } });
    assert.equal(ownerless.status, 400);
  });

  it('adds members (201), refuses disabled users (404), and creates channels within the 50-character limit', async () => {
    const bind = (id: string) => ({ '@odata.type': '#microsoft.graph.aadUserConversationMember', roles: [], 'user@odata.bind': `https://graph.microsoft.com/v1.0/users('${id}')` });
    const added = await graph(emulator, userToken, 'POST', `/teams/${SAMPLE.teams.sales}/members`, { body: bind(SAMPLE.users.lee) });
    assert.equal(added.status, 201);
    assert.equal(added.body.userId, SAMPLE.users.lee);
    assert.equal((await graph(emulator, userToken, 'POST', `/teams/${SAMPLE.teams.sales}/members`, { body: bind(SAMPLE.users.pradeep) })).status, 404);
    const long = await graph(emulator, userToken, 'POST', `/teams/${SAMPLE.teams.sales}/channels`, { body: { displayName: 'x'.repeat(51) } });
    assert.equal(long.status, 400);
    const channel = await graph(emulator, userToken, 'POST', `/teams/${SAMPLE.teams.sales}/channels`, { body: { displayName: 'Q3 deals', membershipType: 'standard' } });
    assert.equal(channel.status, 201);
    assert.equal(channel.body.membershipType, 'standard');
  });

  it('returns presence for up to 650 object ids in one request', async () => {
    const ids = [SAMPLE.users.megan, SAMPLE.users.diego];
    const answer = await graph(emulator, userToken, 'POST', '/communications/getPresencesByUserId', { body: { ids } });
    assert.deepEqual(answer.body.value.map((presence: { availability: string }) => presence.availability), ['Busy', 'DoNotDisturb']);
    const many = Array.from({ length: 651 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    assert.equal((await graph(emulator, userToken, 'POST', '/communications/getPresencesByUserId', { body: { ids: many } })).status, 400);
    assert.equal((await graph(emulator, userToken, 'POST', '/communications/getPresencesByUserId', { body: { ids: many.slice(0, 650) } })).status, 200);
  });
});

describe('Graph chats, search, mail, calendar and files', () => {
  it('lists chats with lastMessagePreview and the caller read marker, and ignores a chat-message $filter without the matching $orderby', async () => {
    const chats = await graph(emulator, userToken, 'GET', '/me/chats?$expand=lastMessagePreview');
    const megan = chats.body.value.find((chat: { id: string }) => chat.id === SAMPLE.chats.withMegan);
    assert.ok(megan.lastMessagePreview.createdDateTime > megan.viewpoint.lastMessageReadDateTime);
    assert.ok(!chats.body.value.some((chat: { id: string }) => chat.id === SAMPLE.chats.meganAdele));
    const path = `/chats/${encodeURIComponent(SAMPLE.chats.launchGroup)}/messages?$top=50`;
    const filter = `&$filter=${encodeURIComponent('lastModifiedDateTime gt 2026-03-01T00:00:00Z')}`;
    const ignored = await graph(emulator, userToken, 'GET', path + filter);
    const honoured = await graph(emulator, userToken, 'GET', `${path}${filter}&$orderby=lastModifiedDateTime desc`);
    assert.equal(ignored.body.value.length, 31);
    assert.equal(honoured.body.value.length, 1);
    assert.equal((await graph(emulator, userToken, 'GET', `/chats/${encodeURIComponent(SAMPLE.chats.meganAdele)}/messages`)).status, 403);
  });

  it('searches chat and channel messages for the signed-in user only, with from/size paging', async () => {
    const query = (from: number) => ({ requests: [{ entityTypes: ['chatMessage'], query: { queryString: 'logistics' }, from, size: 10 }] });
    const first = await graph(emulator, userToken, 'POST', '/search/query', { body: query(0) });
    const container = first.body.value[0].hitsContainers[0];
    assert.equal(container.hits.length, 10);
    assert.ok(container.total > 10);
    assert.equal(container.moreResultsAvailable, true);
    assert.match(container.hits[0].summary, /<c0>logistics<\/c0>/i);
    assert.equal(container.hits[0].resource['@odata.type'], '#microsoft.graph.chatMessage');
    const last = await graph(emulator, userToken, 'POST', '/search/query', { body: query(30) });
    assert.equal(last.body.value[0].hitsContainers[0].moreResultsAvailable, false);
    const mentioned = await graph(emulator, userToken, 'POST', '/search/query', { body: { requests: [{ entityTypes: ['chatMessage'], query: { queryString: 'IsMentioned:true' } }] } });
    assert.ok(mentioned.body.value[0].hitsContainers[0].total >= 3);
    const app = await appToken(emulator, ['Chat.Read.All']);
    assert.equal((await graph(emulator, app, 'POST', '/search/query', { body: query(0) })).status, 403);
  });

  it('filters mail on isRead and receivedDateTime, refuses $search with $orderby, and keeps other mailboxes private for delegated callers', async () => {
    const unread = await graph(emulator, userToken, 'GET', `/me/mailFolders/inbox/messages?$filter=${encodeURIComponent('isRead eq false')}&$top=100&$select=subject,isRead`);
    assert.ok(unread.body.value.length > 0 && unread.body.value.every((m: { isRead: boolean; id: string }) => m.isRead === false && m.id));
    const recent = await graph(emulator, userToken, 'GET', `/me/messages?$filter=${encodeURIComponent('receivedDateTime ge 2026-03-01T00:00:00Z')}&$orderby=receivedDateTime desc`);
    assert.equal(recent.status, 200);
    assert.ok(recent.body.value.every((m: { receivedDateTime: string }) => m.receivedDateTime >= '2026-03-01'));
    const inefficient = await graph(emulator, userToken, 'GET', `/me/messages?$filter=${encodeURIComponent('isRead eq false')}&$orderby=receivedDateTime desc`);
    assert.equal(inefficient.body.error.code, 'InefficientFilter');
    const searchSorted = await graph(emulator, userToken, 'GET', '/me/messages?$search="invoice"&$orderby=receivedDateTime desc');
    assert.equal(searchSorted.body.error.code, 'SearchWithOrderBy');
    const search = await graph(emulator, userToken, 'GET', '/me/messages?$search="invoice"');
    assert.deepEqual(search.body.value.map((m: { subject: string }) => m.subject), ['Invoice 4821 for Mark 8 enclosures']);
    assert.equal((await graph(emulator, userToken, 'GET', `/users/${SAMPLE.users.megan}/messages`)).body.error.code, 'ErrorAccessDenied');
    const app = await appToken(emulator, ['Mail.Read']);
    assert.equal((await graph(emulator, app, 'GET', `/users/${SAMPLE.users.megan}/messages`)).body.value.length, 2);
  });

  it('sends mail with 202 and delivers it to a recipient in the tenant', async () => {
    const sent = await graph(emulator, userToken, 'POST', '/me/sendMail', { body: { message: { subject: 'Deck', body: { contentType: 'text', content: 'Attached.' }, toRecipients: [{ emailAddress: { address: `megan.bowen@emulator.localhost` } }] } } });
    assert.equal(sent.status, 202);
    const inbox = emulator.graph.tenant.mailbox(SAMPLE.users.megan).messages;
    assert.ok(inbox.some((message) => message.subject === 'Deck' && !message.isRead));
  });

  it('needs startDateTime and endDateTime for calendarView and returns the events overlapping the window', async () => {
    const missing = await graph(emulator, userToken, 'GET', '/me/calendarView');
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.code, 'ErrorInvalidParameter');
    const day = await graph(emulator, userToken, 'GET', '/me/calendarView?startDateTime=2026-03-02T00:00:00Z&endDateTime=2026-03-03T00:00:00Z&$top=50');
    assert.deepEqual(day.body.value.map((event: { subject: string }) => event.subject), ['Mark 8 weekly sync', 'Board call', 'Customer call #6']);
    const created = await graph(emulator, userToken, 'POST', '/me/events', { body: { subject: 'Retro', start: { dateTime: '2026-03-04T10:00:00', timeZone: 'UTC' }, end: { dateTime: '2026-03-04T11:00:00', timeZone: 'UTC' } } });
    assert.equal(created.status, 201);
    assert.equal(created.body.start.dateTime, '2026-03-04T10:00:00.0000000');
  });

  it('redirects /content to a pre-authenticated download URL that serves the bytes and ranges', async () => {
    const item = `/drives/${encodeURIComponent(SAMPLE.drives.testUser)}/items/01TESTUSERNOTESTXT000000000000000A`;
    const meta = await graph(emulator, userToken, 'GET', item);
    assert.equal(meta.body.file.mimeType, 'text/plain');
    const redirect = await graph(emulator, userToken, 'GET', `${item}/content`, { redirect: 'manual' });
    assert.equal(redirect.status, 302);
    const location = redirect.headers.get('location')!;
    assert.ok(location.startsWith(`https://sharepoint.localhost:${emulator.port}/`));
    const bytes = await fetch(location);
    assert.match(await bytes.text(), /^Mark 8 weekly sync/);
    const ranged = await fetch(location, { headers: { range: 'bytes=0-5' } });
    assert.equal(ranged.status, 206);
    assert.equal(await ranged.text(), 'Mark 8');
    const tampered = await fetch(location.replace(/tempauth=[^&]+/, 'tempauth=forged.sig'));
    assert.equal(tampered.status, 401);
    const other = `/drives/${encodeURIComponent(SAMPLE.drives.megan)}/items/01MEGANSALARYBANDS00000000000000A`;
    assert.equal((await graph(emulator, userToken, 'GET', other)).status, 403);
  });
});
