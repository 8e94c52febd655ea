import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { gzipSync } from 'node:zlib';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ManagedIdentityCredential } from '@azure/identity';
import { TelemetryClient } from 'applicationinsights';
import { startEmulator, type Emulator } from './server.ts';

let emulator: Emulator;
const outboundHosts = recordOutboundHosts();

before(async () => {
  emulator = await startEmulator();
  Object.assign(process.env, emulator.env());
});

beforeEach(() => {
  emulator.clearRequests();
  emulator.appInsights.clearEnvelopes();
  emulator.appInsights.requireEntraAuth = false;
});

after(async () => {
  outboundHosts.restore();
  await emulator.close();
});

describe('Application Insights ingestion', () => {
  it('receives a trackEvent from TelemetryClient, sent with a bearer token when Entra auth is required', async () => {
    emulator.appInsights.requireEntraAuth = true;
    const client = createTelemetryClient();

    client.trackEvent({ name: 'mcp.tool.call', properties: { tool: 'kusto_query' }, measurements: { durationMs: 12 } });
    await client.flush();
    await client.shutdown();

    const event = emulator.appInsights.envelopes().find((envelope) => envelope.data?.baseType === 'EventData');
    assert.ok(event, 'an EventData envelope arrived');
    assert.equal(event.name, 'Microsoft.ApplicationInsights.Event');
    assert.equal(event.data?.baseData.name, 'mcp.tool.call');
    assert.deepEqual(event.data?.baseData.properties, { tool: 'kusto_query' });
    const track = emulator.requestsFor('appinsights').find((request) => request.body.includes('mcp.tool.call'));
    assert.ok(track);
    assert.equal(new URL(track.url).pathname, '/v2.1/track');
    assert.match(track.headers.authorization ?? '', /^Bearer ey/);
    assert.equal(track.status, 200);
  });

  it('rejects telemetry without a token when Entra auth is required', async () => {
    emulator.appInsights.requireEntraAuth = true;
    const response = await track(JSON.stringify([envelope('unauthenticated')]));
    assert.equal(response.status, 401);
    assert.equal(emulator.appInsights.envelopes().length, 0);
  });

  it('accepts a valid batch with 200 and Breeze counters', async () => {
    const response = await track(JSON.stringify([envelope('one'), envelope('two')]));
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { itemsReceived: 2, itemsAccepted: 2, appId: null, errors: [] });
  });

  it('answers 206 with per-item errors when some envelopes are invalid', async () => {
    const { time: _missing, ...withoutTime } = envelope('no-time');
    const response = await track(JSON.stringify([envelope('good'), withoutTime]));
    assert.equal(response.status, 206);
    const body = (await response.json()) as { itemsAccepted: number; errors: Array<{ index: number; statusCode: number; message: string }> };
    assert.equal(body.itemsAccepted, 1);
    assert.equal(body.errors.length, 1);
    assert.equal(body.errors[0]?.index, 1);
    assert.equal(body.errors[0]?.statusCode, 400);
    assert.match(body.errors[0]?.message ?? '', /Field 'time'/);
    assert.deepEqual(emulator.appInsights.envelopes().map((item) => item.data?.baseData.name), ['good']);
  });

  it('reads gzip bodies and newline-delimited JSON', async () => {
    const gzipped = await track(gzipSync(JSON.stringify([envelope('zipped')])), { 'Content-Encoding': 'gzip' });
    const lines = await track(`${JSON.stringify(envelope('line-1'))}\n${JSON.stringify(envelope('line-2'))}\n`);
    assert.equal(gzipped.status, 200);
    assert.equal(lines.status, 200);
    assert.deepEqual(emulator.appInsights.envelopes().map((item) => item.data?.baseData.name), ['zipped', 'line-1', 'line-2']);
  });

  it('answers live metrics (QuickPulse) with a quiet 404', async () => {
    const response = await fetch(emulator.url('ingest.monitor.localhost', '/QuickPulseService.svc/ping?ikey=x'), { method: 'POST' });
    assert.equal(response.status, 404);
  });

  it('lets no SDK in this file connect anywhere but the emulator', () => {
    const outside = outboundHosts.hosts.filter((host) => host !== '127.0.0.1' && !/(^|\.)localhost$/.test(host));
    assert.deepEqual(outside, []);
    assert.ok(outboundHosts.hosts.length > 0);
  });
});

function createTelemetryClient(): TelemetryClient {
  const client = new TelemetryClient(emulator.appInsights.connectionString, { useGlobalProviders: false });
  client.config.aadTokenCredential = new ManagedIdentityCredential(emulator.identity.clientId);
  // Offline storage would replay telemetry across test runs.
  client.config.enableUseDiskRetryCaching = false;
  return client;
}

function envelope(eventName: string): Record<string, unknown> {
  const iKey = /InstrumentationKey=([^;]+)/.exec(emulator.appInsights.connectionString)?.[1];
  return {
    ver: 1,
    name: 'Microsoft.ApplicationInsights.Event',
    time: new Date().toISOString(),
    iKey,
    data: { baseType: 'EventData', baseData: { ver: 2, name: eventName } },
  };
}

function track(body: string | Buffer, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(emulator.url('ingest.monitor.localhost', '/v2.1/track'), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
}

/** Records the host of every TCP/TLS connection this process opens (http, https and fetch all go through these). */
function recordOutboundHosts(): { hosts: string[]; restore(): void } {
  const hosts: string[] = [];
  const originals = { netConnect: net.connect, netCreateConnection: net.createConnection, tlsConnect: tls.connect };
  const hostOf = (args: unknown[]): string => {
    const [first, second] = args;
    if (typeof first === 'object' && first !== null) {
      const options = first as { host?: string; servername?: string; path?: string };
      return options.host ?? options.servername ?? options.path ?? 'localhost';
    }
    return typeof second === 'string' ? second : 'localhost';
  };
  const wrap = <T extends (...args: never[]) => unknown>(original: T): T =>
    ((...args: Parameters<T>) => {
      hosts.push(hostOf(args));
      return original(...args);
    }) as T;
  Object.assign(net, { connect: wrap(originals.netConnect), createConnection: wrap(originals.netCreateConnection) });
  Object.assign(tls, { connect: wrap(originals.tlsConnect) });
  return {
    hosts,
    restore: () => {
      Object.assign(net, { connect: originals.netConnect, createConnection: originals.netCreateConnection });
      Object.assign(tls, { connect: originals.tlsConnect });
    },
  };
}
