/**
 * The real `azure-kusto-data` client against the emulator over HTTPS. Pins
 * down how the SDK surfaces each outcome (the product classifies errors from
 * these shapes). Run through `node scripts/test.mjs`, which provides the CA
 * and `*.localhost` resolution.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManagedIdentityCredential, type AccessToken, type GetTokenOptions, type TokenCredential } from '@azure/identity';
import { Client, ClientRequestProperties, KustoConnectionStringBuilder, kustoTrustedEndpoints, MatchRule } from 'azure-kusto-data';
import { startEmulator, type Emulator } from '../server.ts';
import { createKustoService, PUBLIC_KUSTO_RESOURCE_ID, type KustoService } from './index.ts';

let emulator: Emulator;
let kusto: KustoService;
let client: Client;
let clusterUrl: string;

/** Issues emulator tokens for the scope the SDK asks for, and remembers the scopes. */
class RecordingCredential implements TokenCredential {
  readonly scopes: string[][] = [];
  async getToken(scopes: string | string[], _options?: GetTokenOptions): Promise<AccessToken> {
    const list = Array.isArray(scopes) ? scopes : [scopes];
    this.scopes.push(list);
    const aud = (list[0] ?? '').replace(/\/\.default$/, '');
    return { token: await emulator.mintToken({ aud, idtyp: 'app', appid: 'recording-app' }), expiresOnTimestamp: Date.now() + 3_600_000 };
  }
}

function props(options: Record<string, unknown> = {}): ClientRequestProperties {
  const p = new ClientRequestProperties();
  for (const [k, v] of Object.entries(options)) p.setOption(k, v);
  return p;
}

/** axios is only a dependency of the SDK, so check its error marker instead of importing it. */
function isAxiosError(error: any): boolean {
  return error?.isAxiosError === true && error.name === 'AxiosError';
}

async function rejection(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected the call to fail');
}

before(async () => {
  kusto = createKustoService();
  emulator = await startEmulator({ services: [kusto] });
  Object.assign(process.env, emulator.env());
  clusterUrl = emulator.origin('samples.kusto.localhost');
});

after(async () => {
  kusto.reset();
  await emulator?.close();
});

describe('azure-kusto-data against the emulator', () => {
  it('refuses *.kusto.localhost until the host is added to the trusted endpoints', async () => {
    const untrusted = new Client(KustoConnectionStringBuilder.withTokenCredential(clusterUrl, new RecordingCredential()));
    const error = await rejection(untrusted.execute('Samples', 'print 1'));
    assert.equal(error.constructor, Error);
    assert.match(error.message, /Can't communicate with 'samples\.kusto\.localhost' as this hostname is currently not trusted/);
    kustoTrustedEndpoints.addTrustedHosts([new MatchRule('.kusto.localhost', false)], false);
    client = new Client(KustoConnectionStringBuilder.withTokenCredential(clusterUrl, new ManagedIdentityCredential(emulator.identity.clientId)));
  });

  it('asks for <KustoServiceResourceId>/.default, which the emulator accepts', async () => {
    const credential = new RecordingCredential();
    // A second cluster name: the SDK caches cloud metadata per cluster URL.
    const other = new Client(KustoConnectionStringBuilder.withTokenCredential(emulator.origin('help.kusto.localhost'), credential));
    await other.execute('Samples', 'print 1');
    assert.deepEqual(credential.scopes[0], [`${PUBLIC_KUSTO_RESOURCE_ID}/.default`]);
    assert.equal(kusto.queries.at(-1)?.principal?.startsWith('aadapp=recording-app;'), true);
  });

  it('runs .show databases on /v1/rest/mgmt with a managed identity token', async () => {
    const response = await client.execute('', '.show databases');
    const rows = [...(response.primaryResults[0]?.rows() ?? [])].map((r) => r.toJSON() as Record<string, unknown>);
    assert.deepEqual(rows.map((r) => r.DatabaseName), ['Samples', 'AppTelemetry', 'Metrics']);
    const identityCall = emulator.requestsFor('identity').at(-1);
    assert.equal(new URL(identityCall?.url ?? '').searchParams.get('resource'), PUBLIC_KUSTO_RESOURCE_ID);
    const recorded = kusto.commands.at(-1);
    assert.equal(recorded?.principal, `aadapp=${emulator.identity.clientId};${emulator.tenantId}`);
    assert.match(recorded?.clientRequestId ?? '', /^KNC\.execute;/);
    assert.match(recorded?.clientVersion ?? '', /^Kusto\.JavaScript\.Client:/);
  });

  it('sends a v2 query with parameters, options and a caller-chosen request id', async () => {
    const p = props({ request_readonly: true, request_readonly_hardline: true });
    p.setParameter('state', 'TEXAS');
    p.setTimeout(30_000);
    p.clientRequestId = 'mcp.kusto_query;1';
    p.application = 'azure-mcp-functions';
    const response = await client.execute('Samples', 'declare query_parameters(state:string); StormEvents | where State == state | summarize Events = count()', p);
    const [row] = [...(response.primaryResults[0]?.rows() ?? [])];
    assert.equal(typeof row?.toJSON().Events, 'number');
    const recorded = kusto.queries.at(-1);
    assert.deepEqual(recorded?.parameters, { state: 'TEXAS' });
    assert.deepEqual(recorded?.options, { request_readonly: true, request_readonly_hardline: true, servertimeout: '00:00:30.000' });
    assert.equal(recorded?.clientRequestId, 'mcp.kusto_query;1');
    assert.equal(recorded?.app, 'azure-mcp-functions');
  });

  it('throws a plain Error on a truncated result; the rows are only reachable with raw', async () => {
    const error = await rejection(client.execute('Samples', 'StormEvents | project EventId', props({ truncationmaxrecords: 5 })));
    assert.equal(error.constructor, Error);
    assert.match(error.message, /^Kusto request had errors\. /);
    assert.match(error.message, /exceed the set limit of 5 records, so not all records were returned \(E_QUERY_RESULT_SET_TOO_LARGE, 0x80DA0003\)/);

    const raw = props({ truncationmaxrecords: 5 });
    (raw as unknown as { raw: boolean }).raw = true;
    const frames = (await client.execute('Samples', 'StormEvents | project EventId', raw)) as unknown as Array<Record<string, any>>;
    const primary = frames.find((f) => f.TableKind === 'PrimaryResult');
    assert.equal(primary?.Rows.length, 6);
    assert.equal(frames.at(-1)?.HasErrors, true);
  });

  it('throws the AxiosError for 4xx with the OneApi body, status and request ids', async () => {
    const error = await rejection(client.execute('Samples', 'Storms | take 1'));
    assert.ok(isAxiosError(error));
    assert.equal(error.response?.status, 400);
    assert.equal(error.response?.data.error.innererror.code, 'SEM0100');
    assert.equal(error.response?.data.error['@permanent'], true);
    assert.match(String(error.response?.headers['x-ms-client-request-id']), /^KNC\.execute;/);
    assert.ok(error.response?.headers['x-ms-activity-id']);
    assert.equal(error.request, undefined);
    assert.equal(error.config?.headers.Authorization, '<REDACTED>');
  });

  it('throws ThrottlingError for 429, with the AxiosError (and Retry-After) as inner', async () => {
    kusto.failNext('throttle', { retryAfterSeconds: 7 });
    const error = await rejection(client.execute('Samples', 'print 1'));
    assert.equal(error.name, 'ThrottlingError');
    assert.equal(error.message, 'POST request failed with status 429 (Too Many Requests)');
    assert.equal(error.inner.response.status, 429);
    assert.equal(error.inner.response.headers['retry-after'], '7');
    assert.equal(error.inner.response.data.error.code, 'TooManyRequests');
  });

  it('surfaces a server timeout as an AxiosError with status 504', async () => {
    kusto.setQueryDelay(2_000, 1);
    const p = props();
    p.setTimeout(200);
    const error = await rejection(client.execute('Samples', 'print 1', p));
    assert.ok(isAxiosError(error));
    assert.equal(error.response?.status, 504);
    assert.equal(error.response?.data.error.code, 'RequestTimeout');
  });

  it('aborts on the client timeout (ECONNABORTED, no response); .cancel query then stops the server side', async () => {
    kusto.setQueryDelay(Number.POSITIVE_INFINITY, 1);
    const p = props();
    p.setTimeout(60_000);
    p.setClientTimeout(300);
    p.clientRequestId = 'mcp.kusto_query;hang';
    const error = await rejection(client.execute('Samples', 'print 1', p));
    assert.ok(isAxiosError(error));
    assert.equal(error.code, 'ECONNABORTED');
    assert.equal(error.response, undefined);
    assert.deepEqual(kusto.runningQueries(), ['mcp.kusto_query;hang']);
    const cancel = await client.execute('Samples', '.cancel query "mcp.kusto_query;hang"');
    assert.equal([...(cancel.primaryResults[0]?.rows() ?? [])][0]?.toJSON().RunningQueryCanceled, true);
    assert.deepEqual(kusto.runningQueries(), []);
  });

  it('turns a string servertimeout into NaN:NaN:NaN.NaN, which the service rejects', async () => {
    const error = await rejection(client.execute('Samples', 'print 1', props({ servertimeout: '00:01:00' })));
    assert.equal(kusto.queries.at(-1)?.options.servertimeout, 'NaN:NaN:NaN.NaN');
    assert.equal(error.response?.status, 400);
  });

  it('loses precision on longs beyond 2^53 when parsing the response', async () => {
    const response = await client.execute('Metrics', 'Heartbeat | sort by SequenceNumber asc | take 1 | project SequenceNumber');
    assert.equal([...(response.primaryResults[0]?.rows() ?? [])][0]?.toJSON().SequenceNumber, 9007199254740992);
  });
});
