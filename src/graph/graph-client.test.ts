import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { OnBehalfOfError, onBehalfOfErrorIn } from '../azure/on-behalf-of.ts';
import { CallAbortedError } from '../core/abort.ts';
import { CircuitOpenError, createCircuitBreaker } from './circuit-breaker.ts';
import { graphEndpoint } from './endpoint.ts';
import { createGraphClientFactory } from './graph-client.ts';
import { GraphHostRefusedError, GraphTimeoutError, type FetchLike } from './middleware.ts';

const endpoint = graphEndpoint('https://graph.localhost:8443');

interface Sent {
  url: string;
  method: string;
  headers: Record<string, string>;
}

/** A fetch answering from a script, in order, and recording what was sent. */
function scriptedFetch(...answers: Array<() => Response | Promise<Response>>) {
  const sent: Sent[] = [];
  const fetch: FetchLike = async (input, init) => {
    const headers = Object.fromEntries(Object.entries((init?.headers ?? {}) as Record<string, string>).map(([name, value]) => [name.toLowerCase(), value]));
    sent.push({ url: String(input), method: init?.method ?? 'GET', headers });
    const answer = answers.shift();
    if (!answer) throw new Error('unexpected request');
    return answer();
  };
  return { fetch, sent };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) => () =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const graphError = (status: number, code: string, headers: Record<string, string> = {}) =>
  json(status, { error: { code, message: `${code} happened`, innerError: { 'request-id': 'req-1', date: '2026-01-01T00:00:00' } } }, headers);

function credential() {
  const scopes: string[][] = [];
  const value: TokenCredential = {
    async getToken(requested): Promise<AccessToken> {
      scopes.push([requested].flat());
      return { token: 'token-for-graph', expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
  return { credential: value, scopes };
}

function factory(fetch: FetchLike, overrides: { failureThreshold?: number; timeoutMs?: number; maxTotalWaitSeconds?: number } = {}) {
  return createGraphClientFactory({
    endpoint,
    requestTimeoutMs: overrides.timeoutMs ?? 5_000,
    retry: { maxRetries: 3, maxTotalWaitSeconds: overrides.maxTotalWaitSeconds ?? 60, baseDelaySeconds: 0 },
    breaker: createCircuitBreaker({ failureThreshold: overrides.failureThreshold ?? 0, cooldownMs: 60_000 }),
    fetch,
  });
}

const loadedGraphSdk = () => Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('microsoft-graph-client'));

test('the Graph SDK is loaded on the first client, not when the module is imported', async () => {
  const { fetch } = scriptedFetch();
  const graph = factory(fetch);
  assert.equal(loadedGraphSdk(), false);
  await graph.client(credential().credential);
  assert.equal(loadedGraphSdk(), true);
});

test('requests carry the token for the endpoint scope, a client-request-id, and go to the endpoint', async () => {
  const { fetch, sent } = scriptedFetch(json(200, { id: 'me' }));
  const { credential: cred, scopes } = credential();
  const client = await factory(fetch).client(cred);
  assert.deepEqual(await client.api('/me').select('id').get(), { id: 'me' });
  assert.deepEqual(scopes, [['https://graph.localhost:8443/.default']]);
  assert.equal(sent[0]?.url, 'https://graph.localhost:8443/v1.0/me?$select=id');
  assert.equal(sent[0]?.headers.authorization, 'Bearer token-for-graph');
  assert.match(sent[0]?.headers['client-request-id'] ?? '', /^[0-9a-f-]{36}$/);
});

test('a GET answered 503 is retried (Retry-After honoured) and succeeds', async () => {
  const { fetch, sent } = scriptedFetch(graphError(503, 'serviceNotAvailable', { 'retry-after': '0' }), json(200, { value: [] }));
  const client = await factory(fetch).client(credential().credential);
  assert.deepEqual(await client.api('/teams').get(), { value: [] });
  assert.equal(sent.length, 2);
  assert.equal(sent[1]?.headers['retry-attempt'], '1');
});

test('a POST answered 503 is not sent again: it may have run', async () => {
  const { fetch, sent } = scriptedFetch(graphError(503, 'serviceNotAvailable', { 'retry-after': '0' }), json(201, { id: 'twice' }));
  const client = await factory(fetch).client(credential().credential);
  await assert.rejects(client.api('/chats/19:a@thread.v2/messages').post({ body: { content: 'hi' } }), (error: { statusCode?: number; code?: string }) => {
    assert.equal(error.statusCode, 503);
    assert.equal(error.code, 'serviceNotAvailable');
    return true;
  });
  assert.equal(sent.length, 1);
});

test('a PATCH answered 504 is not sent again', async () => {
  const { fetch, sent } = scriptedFetch(graphError(504, 'gatewayTimeout'), json(200, {}));
  const client = await factory(fetch).client(credential().credential);
  await assert.rejects(client.api('/me/messages/AAMk').patch({ isRead: true }), { statusCode: 504 });
  assert.equal(sent.length, 1);
});

test('a POST answered 429 is sent again after Retry-After: Graph did not run it', async () => {
  const { fetch, sent } = scriptedFetch(graphError(429, 'activityLimitReached', { 'retry-after': '0' }), json(201, { id: 'posted' }));
  const client = await factory(fetch).client(credential().credential);
  assert.deepEqual(await client.api('/chats/19:a@thread.v2/messages').post({ body: { content: 'hi' } }), { id: 'posted' });
  assert.equal(sent.length, 2);
  assert.equal(sent[1]?.method, 'POST');
});

test('a Retry-After longer than the wait budget is not waited for: the 429 comes back with its header', async () => {
  const { fetch, sent } = scriptedFetch(graphError(429, 'activityLimitReached', { 'retry-after': '41' }), json(200, {}));
  const client = await factory(fetch, { maxTotalWaitSeconds: 30 }).client(credential().credential);
  const started = Date.now();
  await assert.rejects(client.api('/me/presence').get(), (error: { statusCode?: number; headers?: Headers }) => {
    assert.equal(error.statusCode, 429);
    assert.equal(error.headers?.get('retry-after'), '41');
    return true;
  });
  assert.equal(sent.length, 1);
  assert.ok(Date.now() - started < 1000);
});

test('a URL on another host is refused before a token is asked for or anything is sent', async () => {
  const { fetch, sent } = scriptedFetch(json(200, {}));
  const { credential: cred, scopes } = credential();
  const client = await factory(fetch).client(cred);
  for (const url of ['https://evil.example/v1.0/me', 'https://graph.microsoft.com/v1.0/me', 'https://graph.localhost:9999/v1.0/me']) {
    await assert.rejects(client.api(url).get(), (error: Error) => {
      assert.ok(error.cause instanceof GraphHostRefusedError, url);
      return true;
    });
  }
  assert.equal(sent.length, 0);
  assert.equal(scopes.length, 0);
});

test('a request with no answer in time fails as a timeout; a timed-out POST is flagged as possibly run and not re-sent', async () => {
  let calls = 0;
  const fetch: FetchLike = (_input, init) => {
    calls += 1;
    return new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
  };
  const client = await factory(fetch, { timeoutMs: 50 }).client(credential().credential);
  await assert.rejects(client.api('/teams/x/channels/y/messages').post({}), (error: Error) => {
    assert.ok(error.cause instanceof GraphTimeoutError);
    assert.equal((error.cause as GraphTimeoutError).mayHaveRun, true);
    return true;
  });
  assert.equal(calls, 1);
});

test("the caller's cancel stops the request with its own reason", async () => {
  const fetch: FetchLike = (_input, init) => new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
  const client = await factory(fetch).client(credential().credential);
  const controller = new AbortController();
  const pending = client.api('/me/chats').option('signal', controller.signal).get();
  controller.abort(new CallAbortedError('client_disconnected'));
  await assert.rejects(pending, (error: Error) => {
    assert.ok(error.cause instanceof CallAbortedError);
    assert.equal((error.cause as CallAbortedError).kind, 'client_disconnected');
    return true;
  });
});

test('a credential failure reaches the caller as itself (on-behalf-of consent), not as a flattened GraphError', async () => {
  const { fetch, sent } = scriptedFetch(json(200, {}));
  const refusing: TokenCredential = {
    getToken: async () => {
      throw new OnBehalfOfError('consent_required', 'Nobody consented to Graph for this app.', 'Ask an admin to grant consent.', 'AADSTS65001');
    },
  };
  const client = await factory(fetch).client(refusing);
  await assert.rejects(client.api('/me').get(), (error: unknown) => {
    assert.equal(onBehalfOfErrorIn(error)?.code, 'consent_required');
    return true;
  });
  assert.equal(sent.length, 0);
});

test('after repeated 5xx the breaker fails calls fast without sending them', async () => {
  const { fetch, sent } = scriptedFetch(graphError(500, 'generalException'), graphError(500, 'generalException'), json(200, {}));
  const client = await factory(fetch, { failureThreshold: 2 }).client(credential().credential);
  await assert.rejects(client.api('/teams').get(), { statusCode: 500 });
  await assert.rejects(client.api('/teams').get(), { statusCode: 500 });
  await assert.rejects(client.api('/teams').get(), (error: Error) => {
    assert.ok(error.cause instanceof CircuitOpenError);
    assert.ok((error.cause as CircuitOpenError).retryAfterSeconds > 0);
    return true;
  });
  assert.equal(sent.length, 2);
});

test('the managed identity shares one client; another credential gets its own', async () => {
  const graph = factory(scriptedFetch().fetch);
  const app = credential().credential;
  assert.equal(await graph.client(app), await graph.client(app));
  assert.notEqual(await graph.client(app), await graph.client(credential().credential));
});
