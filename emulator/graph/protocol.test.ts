import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Emulator } from '../server.ts';
import { TEST_USER_ID } from '../server.ts';
import { SAMPLE } from './sample-tenant.ts';
import { appToken, delegatedToken, graph, graphEmulator } from './test-support.ts';

let emulator: Emulator;
let userToken: string;

before(async () => {
  emulator = await graphEmulator();
  userToken = await delegatedToken(emulator, 'User.Read User.ReadBasic.All Team.ReadBasic.All Channel.ReadBasic.All ChannelMessage.Read.All ChannelMessage.Send Chat.Read ChatMessage.Send Presence.Read.All Mail.Read Mail.Send Calendars.ReadWrite Files.Read.All Team.Create TeamMember.ReadWrite.All Channel.Create');
});
beforeEach(() => emulator.graph.reset());
after(() => emulator.close());

describe('Graph tokens and errors', () => {
  it('refuses a missing token and a token for another audience with 401 InvalidAuthenticationToken and a challenge', async () => {
    const missing = await graph(emulator, undefined, 'GET', '/me');
    assert.equal(missing.status, 401);
    assert.equal(missing.body.error.code, 'InvalidAuthenticationToken');
    assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer /);
    const vaultToken = await emulator.mintToken({ aud: 'https://vault.azure.net', scp: 'User.Read' });
    const wrong = await graph(emulator, vaultToken, 'GET', '/me');
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error.message, 'Access token validation failure. Invalid audience.');
  });

  it('accepts the emulator origin as audience, as tokens for GRAPH_ENDPOINT/.default carry it', async () => {
    const token = await emulator.mintToken({ aud: emulator.graph.endpoint, scp: 'User.Read' });
    assert.equal((await graph(emulator, token, 'GET', '/me')).status, 200);
  });

  it('answers a token with neither scp nor roles with 401, as Graph does for an identity without app roles', async () => {
    const token = await emulator.mintToken({ aud: 'https://graph.microsoft.com', idtyp: 'app' });
    const answer = await graph(emulator, token, 'GET', '/users');
    assert.equal(answer.status, 401);
    assert.equal(answer.body.error.message, 'Either scp or roles claim need to be present in the token.');
  });

  it('puts the request-id of the response headers into innerError and echoes client-request-id', async () => {
    const answer = await graph(emulator, userToken, 'GET', '/users/nobody@emulator.localhost', { headers: { 'client-request-id': 'c-123' } });
    assert.equal(answer.status, 404);
    assert.equal(answer.body.error.code, 'Request_ResourceNotFound');
    assert.equal(answer.body.error.innerError['request-id'], answer.headers.get('request-id'));
    assert.equal(answer.body.error.innerError['client-request-id'], 'c-123');
    assert.equal(answer.headers.get('client-request-id'), 'c-123');
    assert.match(answer.body.error.innerError.date, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
  });

  it('answers /me with an app-only token with 400 and Graph message', async () => {
    const token = await appToken(emulator, ['User.Read.All']);
    const answer = await graph(emulator, token, 'GET', '/me/joinedTeams');
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error.message, '/me request is only valid with delegated authentication flow.');
    const own = await graph(emulator, userToken, 'GET', '/me');
    assert.equal(own.body.id, TEST_USER_ID);
  });

  it('checks permissions per endpoint: Teams names the accepted and held scopes, the directory answers Authorization_RequestDenied', async () => {
    const token = await delegatedToken(emulator, 'User.Read');
    const channels = await graph(emulator, token, 'GET', `/teams/${SAMPLE.teams.mark8}/channels`);
    assert.equal(channels.status, 403);
    assert.equal(channels.body.error.code, 'Forbidden');
    assert.match(channels.body.error.message, /API requires one of 'Channel\.ReadBasic\.All.*Scopes on the request 'User\.Read'/);
    const users = await graph(emulator, token, 'GET', '/users');
    assert.equal(users.status, 403);
    assert.equal(users.body.error.code, 'Authorization_RequestDenied');
    const app = await appToken(emulator, ['Mail.Read']);
    const appTeams = await graph(emulator, app, 'GET', `/users/${TEST_USER_ID}/joinedTeams`);
    assert.match(appTeams.body.error.message, /Missing role permissions.*Roles on the request 'Mail\.Read'/);
  });

  it('refuses paths without a version and unknown segments like Graph', async () => {
    const noVersion = await fetch(`${emulator.graph.endpoint}/users`, { headers: { authorization: `Bearer ${userToken}` } });
    assert.equal(noVersion.status, 400);
    assert.equal(((await noVersion.json()) as { error: { message: string } }).error.message, 'Invalid version: users');
    const unknown = await graph(emulator, userToken, 'GET', '/teams/x/notASegment');
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error.message, "Resource not found for the segment 'notASegment'.");
  });
});

describe('Graph users: paging and ConsistencyLevel', () => {
  it('pages with an absolute nextLink that keeps the query and adds an opaque $skiptoken, until every user was seen once', async () => {
    let link: string | undefined = '/users?$top=5&$select=id,displayName';
    const seen: string[] = [];
    let pages = 0;
    while (link) {
      const page = await graph(emulator, userToken, 'GET', link);
      assert.equal(page.status, 200);
      for (const user of page.body.value) {
        assert.deepEqual(Object.keys(user).sort(), ['displayName', 'id']);
        seen.push(user.id);
      }
      link = page.body['@odata.nextLink'];
      if (link) {
        assert.ok(link.startsWith(`${emulator.graph.endpoint}/v1.0/users?`), link);
        assert.match(link, /\$top=5&\$select=id,displayName&\$skiptoken=/);
      }
      pages += 1;
    }
    assert.equal(seen.length, emulator.graph.tenant.users.length);
    assert.equal(new Set(seen).size, seen.length);
    assert.equal(pages, Math.ceil(seen.length / 5));
  });

  it('refuses a tampered $skiptoken and a $top above 999', async () => {
    const first = await graph(emulator, userToken, 'GET', '/users?$top=2');
    const tampered = first.body['@odata.nextLink'].replace(/\$skiptoken=[^&]+/, `$skiptoken=${Buffer.from('{"o":0,"f":"x"}').toString('base64url')}`);
    assert.equal((await graph(emulator, userToken, 'GET', tampered)).status, 400);
    const big = await graph(emulator, userToken, 'GET', '/users?$top=1000');
    assert.equal(big.status, 400);
    assert.equal(big.body.error.message, "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive.");
  });

  it('needs ConsistencyLevel: eventual for $search and /users/$count, and silently drops @odata.count without it', async () => {
    const search = '/users?$search=' + encodeURIComponent('"displayName:megan"');
    const refused = await graph(emulator, userToken, 'GET', search);
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.code, 'Request_UnsupportedQuery');
    const found = await graph(emulator, userToken, 'GET', search, { headers: { ConsistencyLevel: 'eventual' } });
    assert.deepEqual(found.body.value.map((user: { displayName: string }) => user.displayName), ['Megan Bowen']);
    const silent = await graph(emulator, userToken, 'GET', '/users?$count=true');
    assert.equal(silent.status, 200);
    assert.equal(silent.body['@odata.count'], undefined);
    const counted = await graph(emulator, userToken, 'GET', '/users?$count=true', { headers: { ConsistencyLevel: 'eventual' } });
    assert.equal(counted.body['@odata.count'], emulator.graph.tenant.users.length);
    const count = await graph(emulator, userToken, 'GET', '/users/$count');
    assert.equal(count.status, 400);
    assert.equal(count.body.error.message, '$count is not currently supported.');
  });

  it('refuses endsWith without the advanced-query pair and evaluates escaped literals', async () => {
    const ends = `/users?$filter=${encodeURIComponent("endsWith(mail,'@emulator.localhost')")}`;
    assert.equal((await graph(emulator, userToken, 'GET', ends)).body.error.code, 'Request_UnsupportedQuery');
    const advanced = await graph(emulator, userToken, 'GET', `${ends}&$count=true`, { headers: { ConsistencyLevel: 'eventual' } });
    assert.equal(advanced.status, 200);
    assert.equal(advanced.body['@odata.count'], emulator.graph.tenant.users.length);
    const escaped = await graph(emulator, userToken, 'GET', `/users?$filter=${encodeURIComponent("mail eq 'sean.o''brien@emulator.localhost'")}`);
    assert.deepEqual(escaped.body.value.map((user: { id: string }) => user.id), [SAMPLE.users.sean]);
    const unindexed = await graph(emulator, userToken, 'GET', `/users?$filter=${encodeURIComponent("faxNumber eq '1'")}`);
    assert.equal(unindexed.body.error.code, 'Request_UnsupportedQuery');
  });
});

describe('Graph throttling', () => {
  it('answers 429 with Retry-After and throttles the same client again before it elapses, but not another client', async () => {
    emulator.graph.throttleNext(1, 2);
    const first = await graph(emulator, userToken, 'GET', '/me');
    assert.equal(first.status, 429);
    assert.equal(first.headers.get('retry-after'), '2');
    assert.equal(first.body.error.code, 'activityLimitReached');
    assert.equal(first.body.error.innerError.code, 'throttledRequest');
    const early = await graph(emulator, userToken, 'GET', '/users');
    assert.equal(early.status, 429);
    assert.ok(Number(early.headers.get('retry-after')) >= 1);
    assert.equal(emulator.graph.earlyRetries.length, 1);
    const other = await delegatedToken(emulator, 'User.Read', { oid: SAMPLE.users.megan });
    assert.equal((await graph(emulator, other, 'GET', '/me')).status, 200);
  });

  it('lets the client through once Retry-After has elapsed', async () => {
    emulator.graph.throttleNext(1, 1);
    assert.equal((await graph(emulator, userToken, 'GET', '/me')).status, 429);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.equal((await graph(emulator, userToken, 'GET', '/me')).status, 200);
    assert.equal(emulator.graph.earlyRetries.length, 0);
  });
});

describe('Graph $batch', () => {
  it('refuses more than 20 requests and duplicate ids for the whole batch', async () => {
    const requests = Array.from({ length: 21 }, (_, i) => ({ id: String(i + 1), method: 'GET', url: '/me' }));
    assert.equal((await graph(emulator, userToken, 'POST', '/$batch', { body: { requests } })).status, 400);
    const ok = await graph(emulator, userToken, 'POST', '/$batch', { body: { requests: requests.slice(0, 20) } });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.responses.length, 20);
    const duplicate = await graph(emulator, userToken, 'POST', '/$batch', { body: { requests: [{ id: '1', method: 'GET', url: '/me' }, { id: '1', method: 'GET', url: '/me' }] } });
    assert.equal(duplicate.status, 400);
  });

  it('gives each item its own status: a 429 with Retry-After in the item, 424 for its dependents, 200 for the rest, matched by id', async () => {
    emulator.graph.failBatchItems({ urlPrefix: `/teams/${SAMPLE.teams.sales}`, status: 429, retryAfterSeconds: 3 });
    const body = {
      requests: [
        { id: 'a', method: 'GET', url: `/teams/${SAMPLE.teams.mark8}/channels` },
        { id: 'b', method: 'GET', url: `/teams/${SAMPLE.teams.sales}/channels` },
        { id: 'c', method: 'GET', url: '/me', dependsOn: ['b'] },
        { id: 'd', method: 'GET', url: '/users?$search="displayName:adele"', headers: { ConsistencyLevel: 'eventual' } },
      ],
    };
    const answer = await graph(emulator, userToken, 'POST', '/$batch', { body });
    assert.equal(answer.status, 200);
    const byId = Object.fromEntries(answer.body.responses.map((item: { id: string }) => [item.id, item]));
    assert.equal(byId.a.status, 200);
    assert.ok(byId.a.body.value.length >= 2);
    assert.equal(byId.b.status, 429);
    assert.equal(byId.b.headers['Retry-After'], '3');
    assert.equal(byId.c.status, 424);
    assert.equal(byId.d.status, 200);
    assert.equal(byId.d.body.value[0].displayName, 'Adele Vance');
    // Re-sending the throttled item before its Retry-After elapses is throttled again.
    const again = await graph(emulator, userToken, 'POST', '/$batch', { body: { requests: [body.requests[1]] } });
    assert.equal(again.body.responses[0].status, 429);
    assert.equal(emulator.graph.calls.filter((call) => call.batchItemId === 'b').length, 2);
  });
});
