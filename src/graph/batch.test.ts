import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TokenCredential } from '@azure/identity';
import { batchAuditSummary, runBatch, type BatchRequest } from './batch.ts';
import { createCircuitBreaker } from './circuit-breaker.ts';
import { graphEndpoint } from './endpoint.ts';
import { createGraphClientFactory } from './graph-client.ts';
import type { FetchLike } from './middleware.ts';

const endpoint = graphEndpoint('https://graph.localhost:8443');
const credential: TokenCredential = { getToken: async () => ({ token: 'x', expiresOnTimestamp: Date.now() + 60_000 }) };

interface Item {
  id: string;
  method: string;
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A fake `$batch` endpoint: `answer` decides each item's response; envelopes are recorded. */
function batchGraph(answer: (item: Item, envelope: number) => { status: number; headers?: Record<string, string>; body?: unknown }, envelopeStatus = 200) {
  const envelopes: Item[][] = [];
  const fetch: FetchLike = async (input, init) => {
    assert.equal(String(input), `${endpoint.root}/$batch`);
    assert.equal(init?.method, 'POST');
    const { requests } = JSON.parse(String(init?.body)) as { requests: Item[] };
    envelopes.push(requests);
    if (envelopeStatus !== 200) return new Response(JSON.stringify({ error: { code: 'generalException', message: 'batch broke' } }), { status: envelopeStatus, headers: { 'content-type': 'application/json' } });
    // Graph answers in any order: reversed here.
    const responses = requests.map((item) => ({ id: item.id, ...answer(item, envelopes.length) })).reverse();
    return new Response(JSON.stringify({ responses }), { status: 200, headers: { 'content-type': 'application/json' } });
  };
  const factory = createGraphClientFactory({ endpoint, requestTimeoutMs: 5000, retry: { maxRetries: 0, maxTotalWaitSeconds: 0, baseDelaySeconds: 0 }, breaker: createCircuitBreaker({ failureThreshold: 0, cooldownMs: 1 }), fetch });
  return { envelopes, client: () => factory.client(credential) };
}

const teams = (count: number): BatchRequest[] => Array.from({ length: count }, (_, index) => ({ key: `team-${index}`, method: 'GET', url: `/teams/team-${index}/channels?$select=id` }));
const noSleep = async () => undefined;

test('45 requests go in 3 envelopes of at most 20; answers are matched by id whatever their order', async () => {
  const fake = batchGraph((item) => ({ status: 200, body: { value: [{ id: item.url }] } }));
  const result = await runBatch(teams(45), { client: await fake.client(), sleep: noSleep });
  assert.deepEqual(fake.envelopes.map((envelope) => envelope.length), [20, 20, 5]);
  assert.equal(result.envelopes, 3);
  assert.equal(result.outcomes.length, 45);
  for (const [index, outcome] of result.outcomes.entries()) {
    assert.equal(outcome.key, `team-${index}`);
    assert.deepEqual(outcome.body, { value: [{ id: `/teams/team-${index}/channels?$select=id` }] });
  }
});

test('only items answered 429 are sent again, after their Retry-After; a 503 item is final', async () => {
  const waits: number[] = [];
  const fake = batchGraph((item, envelope) => {
    if (item.url.includes('team-1/') && envelope === 1) return { status: 429, headers: { 'Retry-After': '3' }, body: { error: { code: 'TooManyRequests', message: 'slow down' } } };
    if (item.url.includes('team-2/')) return { status: 503, body: { error: { code: 'serviceNotAvailable', message: 'busy', innerError: { 'request-id': 'r-2' } } } };
    return { status: 200, body: { value: [] } };
  });
  const result = await runBatch(teams(4), { client: await fake.client(), sleep: async (ms) => void waits.push(ms) });
  assert.deepEqual(waits, [3000]);
  assert.equal(fake.envelopes.length, 2);
  assert.deepEqual(fake.envelopes[1]?.map((item) => item.url), ['/teams/team-1/channels?$select=id']);
  assert.deepEqual(result.outcomes.map((outcome) => [outcome.status, outcome.attempts]), [[200, 1], [200, 2], [503, 1], [200, 1]]);
  assert.deepEqual(result.outcomes[2]?.error, { code: 'serviceNotAvailable', message: 'busy', requestId: 'r-2' });
  assert.deepEqual(batchAuditSummary(result), { items: 4, succeeded: 3, failed: 1, throttled: 0, retried: 1, envelopes: 2 });
});

test('a throttled POST item is re-sent (Graph did not run it), with its body and content type', async () => {
  const fake = batchGraph((_item, envelope) => (envelope === 1 ? { status: 429, headers: { 'retry-after': '0' } } : { status: 201, body: { id: 'm1' } }));
  const result = await runBatch([{ key: 'post', method: 'POST', url: '/chats/19:a@thread.v2/messages', body: { body: { content: 'hi' } } }], { client: await fake.client(), sleep: noSleep });
  assert.equal(result.outcomes[0]?.status, 201);
  assert.deepEqual(fake.envelopes[1]?.[0], { id: '1', method: 'POST', url: '/chats/19:a@thread.v2/messages', body: { body: { content: 'hi' } }, headers: { 'Content-Type': 'application/json' } });
});

test('a Retry-After past the wait budget is not waited for: the item ends throttled with the wait', async () => {
  const fake = batchGraph(() => ({ status: 429, headers: { 'Retry-After': '120' } }));
  const result = await runBatch(teams(2), { client: await fake.client(), maxWaitSeconds: 30, sleep: async () => assert.fail('must not wait') });
  assert.equal(fake.envelopes.length, 1);
  assert.deepEqual(result.outcomes.map((outcome) => [outcome.status, outcome.retryAfterSeconds]), [[429, 120], [429, 120]]);
  assert.equal(batchAuditSummary(result).throttled, 2);
});

test('items still throttled after the last attempt end as 429', async () => {
  const fake = batchGraph(() => ({ status: 429, headers: { 'Retry-After': '1' } }));
  const result = await runBatch(teams(1), { client: await fake.client(), maxAttempts: 3, sleep: noSleep });
  assert.equal(fake.envelopes.length, 3);
  assert.deepEqual([result.outcomes[0]?.status, result.outcomes[0]?.attempts], [429, 3]);
});

test('a failed envelope is reported for each of its items, and not re-sent', async () => {
  const fake = batchGraph(() => ({ status: 200 }), 500);
  const result = await runBatch(teams(3), { client: await fake.client(), sleep: noSleep });
  assert.equal(fake.envelopes.length, 1);
  for (const outcome of result.outcomes) {
    assert.equal(outcome.status, 500);
    assert.match(outcome.error?.message ?? '', /batch request failed/);
  }
});

test('duplicate keys and URLs that are not version-relative paths are refused before sending', async () => {
  const fake = batchGraph(() => ({ status: 200 }));
  const client = await fake.client();
  await assert.rejects(runBatch([...teams(1), ...teams(1)], { client }), /used twice/);
  for (const url of ['https://evil.example/v1.0/me', '//evil.example/x', 'teams', '/v1.0/teams', '/beta/teams']) {
    await assert.rejects(runBatch([{ key: 'a', method: 'GET', url }], { client }), /not a path relative/, url);
  }
  assert.equal(fake.envelopes.length, 0);
});
