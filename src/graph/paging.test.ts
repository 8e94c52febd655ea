import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TokenCredential } from '@azure/identity';
import { createCircuitBreaker } from './circuit-breaker.ts';
import { createCursorCodec, CursorRefusedError, type CursorScope } from './cursor.ts';
import { ephemeralCursorKeys } from './cursor-keys.ts';
import { graphEndpoint } from './endpoint.ts';
import { createGraphClientFactory } from './graph-client.ts';
import { GraphHostRefusedError, type FetchLike } from './middleware.ts';
import { collectPages } from './paging.ts';

const endpoint = graphEndpoint('https://graph.localhost:8443');
const root = endpoint.root;
const resource = '/teams/t1/channels/c1/messages';
const scope: CursorScope = { caller: { tenantId: 't', objectId: 'ada', appId: undefined }, tool: 'graph_channel_messages_list', resource };
const cursors = createCursorCodec({ keys: ephemeralCursorKeys(), endpoint, ttlMs: 60_000 });
const credential: TokenCredential = { getToken: async () => ({ token: 'x', expiresOnTimestamp: Date.now() + 60_000 }) };

const msg = (id: string) => ({ id, body: { content: `m${id}` } });

/** A fake Graph collection: pages by URL; records the URLs fetched. */
function graph(pages: Record<string, { status?: number; body: unknown }>) {
  const fetched: string[] = [];
  const fetch: FetchLike = async (input) => {
    const url = String(input);
    fetched.push(url);
    const page = pages[url];
    if (!page) return new Response(JSON.stringify({ error: { code: 'itemNotFound', message: url } }), { status: 404, headers: { 'content-type': 'application/json' } });
    return new Response(JSON.stringify(page.body), { status: page.status ?? 200, headers: { 'content-type': 'application/json' } });
  };
  const factory = createGraphClientFactory({ endpoint, requestTimeoutMs: 5000, retry: { maxRetries: 0, maxTotalWaitSeconds: 0, baseDelaySeconds: 0 }, breaker: createCircuitBreaker({ failureThreshold: 0, cooldownMs: 1 }), fetch });
  return { fetched, client: () => factory.client(credential) };
}

const first = `${root}${resource}?$top=3`;
const second = `${root}${resource}?$top=3&$skiptoken=p2`;
const third = `${root}${resource}?$top=3&$skiptoken=p3`;
const threePages = {
  [first]: { body: { value: [msg('1'), msg('2'), msg('3')], '@odata.nextLink': second } },
  [second]: { body: { value: [msg('4'), msg('5'), msg('6')], '@odata.nextLink': third } },
  [third]: { body: { value: [msg('7')] } },
};

const ids = (items: unknown[]) => items.map((item) => (item as { id: string }).id);

test('follows nextLinks to the end: every item, no cursor, not partial', async () => {
  const fake = graph(threePages);
  const result = await collectPages({ client: await fake.client(), endpoint, cursors, scope, firstPage: `${resource}?$top=3`, limit: 100 });
  assert.deepEqual(ids(result.items), ['1', '2', '3', '4', '5', '6', '7']);
  assert.equal(result.partial, false);
  assert.equal(result.nextCursor, undefined);
  assert.equal(result.pagesRead, 3);
  assert.deepEqual(fake.fetched, [first, second, third]);
});

test('a cap inside a page returns exactly the cap, and the cursor continues at the next item', async () => {
  const fake = graph(threePages);
  const client = await fake.client();
  const one = await collectPages({ client, endpoint, cursors, scope, firstPage: `${resource}?$top=3`, limit: 5 });
  assert.deepEqual(ids(one.items), ['1', '2', '3', '4', '5']);
  assert.equal(one.partial, true);
  assert.equal(one.stoppedBy, 'limit');
  assert.ok(one.nextCursor);
  const two = await collectPages({ client, endpoint, cursors, scope, firstPage: 'ignored', cursor: one.nextCursor, limit: 5 });
  assert.deepEqual(ids(two.items), ['6', '7']);
  assert.equal(two.partial, false);
  // Page 2 is read again for its last item: 2 + 2 requests in all.
  assert.deepEqual(fake.fetched, [first, second, second, third]);
});

test('a cap at a page end points the cursor at the nextLink without fetching it', async () => {
  const fake = graph(threePages);
  const result = await collectPages({ client: await fake.client(), endpoint, cursors, scope, firstPage: `${resource}?$top=3`, limit: 3 });
  assert.equal(result.pagesRead, 1);
  assert.deepEqual(fake.fetched, [first]);
  assert.equal((await cursors.decode(scope, result.nextCursor as string)).link, second);
});

test('items repeated across pages are dropped by id', async () => {
  const fake = graph({
    [first]: { body: { value: [msg('1'), msg('2'), msg('3')], '@odata.nextLink': second } },
    [second]: { body: { value: [msg('3'), msg('2'), msg('4')] } },
  });
  const result = await collectPages({ client: await fake.client(), endpoint, cursors, scope, firstPage: `${resource}?$top=3`, limit: 10 });
  assert.deepEqual(ids(result.items), ['1', '2', '3', '4']);
  assert.equal(result.duplicatesDropped, 2);
});

test('a nextLink off the Graph host is neither followed nor put in a cursor', async () => {
  const fake = graph({ [first]: { body: { value: [msg('1')], '@odata.nextLink': 'https://evil.example/v1.0/steal?token=1' } } });
  const result = await collectPages({ client: await fake.client(), endpoint, cursors, scope, firstPage: `${resource}?$top=3`, limit: 10 });
  assert.deepEqual(ids(result.items), ['1']);
  assert.equal(result.partial, true);
  assert.equal(result.nextCursor, undefined);
  assert.ok(result.failure instanceof GraphHostRefusedError);
  assert.deepEqual(fake.fetched, [first]);
});

test('a later page that fails makes a partial result whose cursor retries that page; a failed first page throws', async () => {
  const fake = graph({
    [first]: { body: { value: [msg('1'), msg('2')], '@odata.nextLink': second } },
    [second]: { status: 400, body: { error: { code: 'BadRequest', message: 'skiptoken rejected' } } },
  });
  const result = await collectPages({ client: await fake.client(), endpoint, cursors, scope, firstPage: `${resource}?$top=3`, limit: 10 });
  assert.deepEqual(ids(result.items), ['1', '2']);
  assert.equal(result.stoppedBy, 'page_failed');
  assert.equal((result.failure as { statusCode?: number }).statusCode, 400);
  assert.deepEqual(await cursors.decode(scope, result.nextCursor as string), { link: second, skip: 0 });
  const failing = graph({ [first]: { status: 400, body: { error: { code: 'BadRequest', message: 'no' } } } });
  await assert.rejects(collectPages({ client: await failing.client(), endpoint, cursors, scope, firstPage: `${resource}?$top=3`, limit: 10 }), { statusCode: 400 });
});

test('the page cap bounds the requests of one call', async () => {
  const fake = graph(threePages);
  const result = await collectPages({ client: await fake.client(), endpoint, cursors, scope, firstPage: `${resource}?$top=3`, limit: 100, maxPages: 2 });
  assert.equal(result.pagesRead, 2);
  assert.equal(result.stoppedBy, 'page_cap');
  assert.equal(fake.fetched.length, 2);
  assert.ok(result.nextCursor);
});

test("a cursor for another channel is refused before anything is sent", async () => {
  const fake = graph(threePages);
  const client = await fake.client();
  const { nextCursor } = await collectPages({ client, endpoint, cursors, scope, firstPage: `${resource}?$top=3`, limit: 2 });
  fake.fetched.length = 0;
  await assert.rejects(collectPages({ client, endpoint, cursors, scope: { ...scope, resource: '/teams/t1/channels/c2/messages' }, firstPage: 'x', cursor: nextCursor, limit: 2 }), CursorRefusedError);
  assert.deepEqual(fake.fetched, []);
});

test('`until` ends the collection at the first item it accepts: complete, no cursor, no further page fetched', async () => {
  const fake = graph(threePages);
  const older = (item: unknown) => Number((item as { id: string }).id) >= 5;
  const result = await collectPages({ client: await fake.client(), endpoint, cursors, scope, firstPage: `${resource}?$top=3`, limit: 100, until: older });
  assert.deepEqual(ids(result.items), ['1', '2', '3', '4']);
  assert.deepEqual([result.partial, result.nextCursor, result.stoppedBy], [false, undefined, 'until']);
  assert.deepEqual(fake.fetched, [first, second]);
  // Reached together with the limit: the item past the end means no cursor either.
  const atLimit = await collectPages({ client: await graph(threePages).client(), endpoint, cursors, scope, firstPage: `${resource}?$top=3`, limit: 4, until: older });
  assert.deepEqual([ids(atLimit.items), atLimit.nextCursor, atLimit.partial], [['1', '2', '3', '4'], undefined, false]);
});
