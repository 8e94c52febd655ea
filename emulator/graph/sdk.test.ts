import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Client, PageIterator, type PageCollection } from '@microsoft/microsoft-graph-client';
import type { Emulator } from '../server.ts';
import { SAMPLE } from './sample-tenant.ts';
import { delegatedToken, graphEmulator } from './test-support.ts';

let emulator: Emulator;
let client: Client;

before(async () => {
  emulator = await graphEmulator();
  const token = await delegatedToken(emulator, 'User.Read ChannelMessage.Read.All');
  // The product's setup: the emulator as base URL and its host as a custom Graph host, so the
  // client's auth and retry middleware treat it as Graph.
  client = Client.initWithMiddleware({
    baseUrl: `${emulator.graph.endpoint}/`,
    customHosts: new Set([new URL(emulator.graph.endpoint).hostname]),
    authProvider: { getAccessToken: async () => token },
  });
});
beforeEach(() => emulator.graph.reset());
after(() => emulator.close());

const channelPath = () => `/teams/${SAMPLE.teams.mark8}/channels/${encodeURIComponent(SAMPLE.channels.mark8General)}/messages`;

describe('the official Graph client against the emulated Graph', () => {
  it('pages through every channel message with PageIterator, one request per page of 20, no duplicates', async () => {
    const expected = emulator.graph.tenant.team(SAMPLE.teams.mark8)!.channels.find((channel) => channel.id === SAMPLE.channels.mark8General)!.messages.length;
    const first = (await client.api(channelPath()).get()) as PageCollection;
    const ids: string[] = [];
    const iterator = new PageIterator(client, first, (message: { id: string }) => {
      ids.push(message.id);
      return true;
    });
    await iterator.iterate();
    assert.ok(expected > 40);
    assert.equal(ids.length, expected);
    assert.equal(new Set(ids).size, expected);
    const pageRequests = emulator.requestsFor('graph').filter((request) => new URL(request.url).pathname.endsWith('/messages'));
    assert.equal(pageRequests.length, Math.ceil(expected / 20));
    assert.ok(pageRequests.slice(1).every((request) => new URL(request.url).searchParams.has('$skiptoken')));
    assert.ok(pageRequests.every((request) => request.headers.authorization?.startsWith('Bearer ')));
  });

  it('lets RetryHandler honour the 429 Retry-After: one retry after the wait, not throttled again', async () => {
    emulator.graph.throttleNext(1, 1);
    emulator.clearRequests();
    const me = (await client.api('/me').get()) as { id: string };
    assert.ok(me.id);
    const attempts = emulator.requestsFor('graph');
    assert.deepEqual(attempts.map((request) => request.status), [429, 200]);
    assert.equal(attempts[0]!.headers['retry-attempt'], undefined);
    assert.equal(attempts[1]!.headers['retry-attempt'], '1');
    const waited = attempts[1]!.at - attempts[0]!.at;
    // The emulator's 1 s, not the handler's own 3 s default delay.
    assert.ok(waited >= 1000 && waited < 2900, `retried after ${waited} ms`);
    assert.equal(emulator.graph.earlyRetries.length, 0);
  });
});
