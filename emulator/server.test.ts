import assert from 'node:assert/strict';
import { connect } from 'node:tls';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ManagedIdentityCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { startEmulator, type Emulator } from './server.ts';
import type { EmulatorService } from './types.ts';

/** Stands in for the Kusto module another helper writes: extra services plug in the same way. */
const fakeKusto: EmulatorService = {
  name: 'kusto',
  hostPattern: '<cluster>.kusto.localhost',
  matches: (hostname) => hostname.endsWith('.kusto.localhost'),
  async handle(req) {
    if (new URL(req.url).pathname === '/boom') throw new Error('kaput');
    return Response.json({ echo: await req.text() });
  },
};

let emulator: Emulator;

before(async () => {
  emulator = await startEmulator({ services: [fakeKusto] });
  Object.assign(process.env, emulator.env());
});

beforeEach(() => {
  emulator.clearRequests();
  emulator.clearFaults();
});

after(() => emulator.close());

describe('routing and recording', () => {
  it('routes by host name to extra services and records the exchange', async () => {
    const response = await fetch(emulator.url('help.kusto.localhost', '/v1/rest/query'), { method: 'POST', body: '{"csl":"print 1"}' });

    assert.deepEqual(await response.json(), { echo: '{"csl":"print 1"}' });
    const [recorded] = emulator.requestsFor('kusto');
    assert.equal(recorded?.method, 'POST');
    assert.equal(recorded?.url, emulator.url('help.kusto.localhost', '/v1/rest/query'));
    assert.equal(recorded?.body, '{"csl":"print 1"}');
    assert.equal(recorded?.status, 200);
    assert.equal(recorded?.responseBody, '{"echo":"{\\"csl\\":\\"print 1\\"}"}');
  });

  it('matches extra services before the built-in ones', async () => {
    const identityOverride: EmulatorService = {
      name: 'custom-identity',
      matches: (hostname) => hostname === 'identity.localhost',
      handle: async () => Response.json({ overridden: true }),
    };
    const other = await startEmulator({ services: [identityOverride] });
    try {
      const response = await fetch(other.identity.endpoint);
      assert.deepEqual(await response.json(), { overridden: true });
      assert.equal(other.requests[0]?.service, 'custom-identity');
    } finally {
      await other.close();
    }
  });

  it('turns a throwing service into a recorded 500 JSON error', async () => {
    const response = await fetch(emulator.url('help.kusto.localhost', '/boom'));

    assert.equal(response.status, 500);
    const body = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'EmulatorServiceError');
    assert.match(body.error.message, /kaput/);
    assert.equal(emulator.requestsFor('kusto')[0]?.status, 500);
  });

  it('answers an unknown host with 404 naming the known hosts', async () => {
    const response = await fetch(emulator.url('localhost', '/anything'));

    assert.equal(response.status, 404);
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(error.code, 'UnknownHost');
    for (const host of ['identity.localhost', 'login.localhost', '<vault>.vault.localhost', 'ingest.monitor.localhost', '<cluster>.kusto.localhost']) {
      assert.ok(error.message.includes(host), `${host} listed in: ${error.message}`);
    }
    assert.equal(emulator.requests[0]?.service, 'unknown');
  });

  it('survives garbage on the wire and a host header that is not a host', async () => {
    const garbageReply = await rawExchange('THIS IS NOT HTTP\r\n\r\n');
    const badHostReply = await rawExchange('GET / HTTP/1.1\r\nHost: not a host\r\nConnection: close\r\n\r\n');

    assert.match(garbageReply, /^HTTP\/1\.1 400/);
    assert.match(badHostReply, /^HTTP\/1\.1 400/);
    assert.deepEqual(emulator.requests.map((request) => [request.service, request.status]), [['unknown', 400]]);
    const afterwards = await fetch(emulator.url('localhost', '/still-alive'));
    assert.equal(afterwards.status, 404);
  });
});

describe('faults', () => {
  it('answers with the fault status, body and headers a limited number of times', async () => {
    emulator.addFault({
      service: 'kusto',
      method: 'POST',
      pathPrefix: '/v1/rest',
      status: 429,
      headers: { 'Retry-After': '7' },
      body: { error: { code: 'TooManyRequests', message: 'slow down' } },
      times: 2,
    });
    const post = () => fetch(emulator.url('help.kusto.localhost', '/v1/rest/query'), { method: 'POST', body: 'x' });

    const first = await post();
    const second = await post();
    const third = await post();
    const otherMethod = await fetch(emulator.url('help.kusto.localhost', '/v1/rest/query'));

    assert.equal(first.status, 429);
    assert.equal(first.headers.get('retry-after'), '7');
    assert.deepEqual(await first.json(), { error: { code: 'TooManyRequests', message: 'slow down' } });
    assert.equal(second.status, 429);
    assert.equal(third.status, 200);
    assert.equal(otherMethod.status, 200);
    assert.deepEqual(emulator.requestsFor('kusto').map((request) => request.status), [429, 429, 200, 200]);
  });

  it('delays before calling the service when the fault has no status', async () => {
    emulator.addFault({ service: 'kusto', delayMs: 300, times: 1 });
    const started = Date.now();

    const response = await fetch(emulator.url('help.kusto.localhost', '/v1/rest/query'), { method: 'POST', body: 'x' });

    assert.equal(response.status, 200);
    assert.ok(Date.now() - started >= 290, `took ${Date.now() - started} ms`);
  });

  it('gives a default JSON body and is removed by clearFaults', async () => {
    emulator.addFault({ service: 'kusto', status: 503 });
    const faulted = await fetch(emulator.url('help.kusto.localhost', '/'));
    emulator.clearFaults();
    const healthy = await fetch(emulator.url('help.kusto.localhost', '/'));

    assert.equal(faulted.status, 503);
    assert.equal(((await faulted.json()) as { error: { code: string } }).error.code, 'InjectedFault');
    assert.equal(healthy.status, 200);
  });

  it('is retried by the real SDK, which honours Retry-After', async () => {
    emulator.keyVault.setSecret('throttled', 'eventually');
    emulator.addFault({ service: 'keyvault', pathPrefix: '/secrets/throttled', status: 429, headers: { 'Retry-After': '1' }, times: 1 });
    const client = new SecretClient(emulator.keyVault.vaultUrl, new ManagedIdentityCredential(emulator.identity.clientId));
    const started = Date.now();

    const secret = await client.getSecret('throttled');

    assert.equal(secret.value, 'eventually');
    assert.ok(Date.now() - started >= 900, `retried after ${Date.now() - started} ms`);
    // 429 from the fault, then the challenge, then the authorized read.
    assert.deepEqual(emulator.requestsFor('keyvault').map((request) => request.status), [429, 401, 200]);
  });
});

/** Sends raw bytes over TLS to the emulator and returns whatever comes back. */
function rawExchange(payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: emulator.port, servername: 'localhost' }, () => socket.end(payload));
    let reply = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (reply += chunk));
    socket.on('end', () => resolve(reply));
    socket.on('error', reject);
  });
}
