import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, type Emulator } from '../../../emulator/server.ts';
import { callAs, lastToolAudit, startGraphServerProcess, textOf } from '../../support/graph-server.ts';
import type { ServerProcess } from '../../support/server-process.ts';

/**
 * graph_messages_search: Microsoft Search over chat and channel messages for
 * the signed-in user, paged by from/size behind a signed cursor; refused
 * app-only before anything is sent.
 */
let emulator: Emulator;
before(async () => {
  emulator = await startEmulator();
});
after(() => emulator?.close());

interface Hits {
  hits: Array<{ messageId: string; summary: string; author?: string; chatId?: string; teamId?: string; channelId?: string }>;
  from: number;
  partial: boolean;
  nextCursor?: string;
}

describe('graph_messages_search, GRAPH_IDENTITY=onBehalfOf', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startGraphServerProcess(emulator, 'onBehalfOf');
  });
  after(() => server?.stop());

  test('one POST /search/query for chatMessage; hits with bold matches, place and author, framed as untrusted', async () => {
    emulator.graph.reset();
    const result = await callAs(server, await emulator.entra.mintApiToken(), 'graph_messages_search', { query: 'budget' });
    assert.equal(result.isError, undefined, textOf(result));
    const data = result.structuredContent as unknown as Hits;
    assert.ok(data.hits.length >= 1);
    assert.ok(data.hits.every((hit) => /\*\*budget\*\*/i.test(hit.summary) && !hit.summary.includes('<c0>')), JSON.stringify(data.hits));
    assert.ok(data.hits.some((hit) => hit.teamId && hit.channelId));
    assert.match(textOf(result), /<<<untrusted id=[\w-]+>>>/);
    assert.deepEqual(emulator.graph.calls.map((call) => `${call.method} ${call.path}`), ['POST /search/query']);
    assert.equal(lastToolAudit(server)?.target, 'graph:/search/query');
  });

  test('KQL properties pass through: IsMentioned:true finds the messages that mention the caller', async () => {
    const result = await callAs(server, await emulator.entra.mintApiToken(), 'graph_messages_search', { query: 'IsMentioned:true' });
    const data = result.structuredContent as unknown as Hits;
    assert.ok(data.hits.length >= 2, textOf(result));
  });

  test('paging by cursor: the next call starts at from = the hits already returned; a cursor for another query or user is refused', async () => {
    const token = await emulator.entra.mintApiToken();
    const first = (await callAs(server, token, 'graph_messages_search', { query: 'budget', limit: 1 })).structuredContent as unknown as Hits;
    assert.equal(first.partial, true);
    assert.ok(first.nextCursor);
    const second = (await callAs(server, token, 'graph_messages_search', { query: 'budget', limit: 1, cursor: first.nextCursor })).structuredContent as unknown as Hits;
    assert.equal(second.from, 1);
    assert.notEqual(second.hits[0]?.messageId, first.hits[0]?.messageId);
    emulator.graph.reset();
    const other = await callAs(server, token, 'graph_messages_search', { query: 'launch', cursor: first.nextCursor });
    assert.equal(other.isError, true);
    assert.match(textOf(other), /another resource/);
    emulator.entra.addUser({ oid: '5a3b0000-0000-4000-8000-000000000001', upn: 'megan.bowen@emulator.localhost', name: 'Megan Bowen' });
    const megan = await emulator.entra.mintApiToken({ oid: '5a3b0000-0000-4000-8000-000000000001', upn: 'megan.bowen@emulator.localhost', name: 'Megan Bowen' });
    const stolen = await callAs(server, megan, 'graph_messages_search', { query: 'budget', cursor: first.nextCursor });
    assert.match(textOf(stolen), /issued to another user/);
    assert.deepEqual(emulator.graph.calls, []);
  });
});

describe('graph_messages_search, GRAPH_IDENTITY=managedIdentity', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startGraphServerProcess(emulator, 'managedIdentity');
  });
  after(() => server?.stop());

  test('refused as delegated-only with the setup it needs, before anything reaches Graph', async () => {
    emulator.graph.reset();
    const result = await callAs(server, await emulator.entra.mintApiToken(), 'graph_messages_search', { query: 'budget' });
    assert.equal(result.isError, true);
    assert.match(textOf(result), /works only for a signed-in user[\s\S]*Nothing was sent[\s\S]*on-behalf-of/);
    assert.equal(lastToolAudit(server)?.errorClass, 'delegated_only');
    assert.deepEqual(emulator.graph.calls, []);
  });
});
