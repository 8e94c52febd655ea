/**
 * The product's Kusto gateway (src/kusto/gateway.ts) over the real SDK
 * against the emulator: what reaches the wire whatever a caller passes, the
 * deadline that cancels on the cluster, and the service's real error shapes
 * coming back classified.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { AccessToken } from '@azure/identity';
import type { DownstreamIdentity } from '../../src/azure/downstream-identity.ts';
import { BackendBusyError, createLimiter } from '../../src/core/limiter.ts';
import { showDatabases } from '../../src/kusto/commands.ts';
import { classifyKustoError, kustoErrorResult } from '../../src/kusto/errors.ts';
import { createKustoGateway, KustoCancelledError, KustoRequestError, type KustoGateway } from '../../src/kusto/gateway.ts';
import { startEmulator, type Emulator } from '../server.ts';
import { createKustoService, type KustoService } from './index.ts';

let emulator: Emulator;
let kusto: KustoService;
let gateway: KustoGateway;
let cluster: { name: string; url: string };
let identity: DownstreamIdentity;

before(async () => {
  kusto = createKustoService();
  emulator = await startEmulator({ services: [kusto] });
  cluster = { name: 'samples', url: emulator.origin('samples.kusto.localhost') };
  identity = {
    mode: 'managedIdentity',
    partition: 'app',
    credential: {
      getToken: async (scopes): Promise<AccessToken> => ({
        token: await emulator.mintToken({ aud: String([scopes].flat()[0]).replace(/\/\.default$/, ''), idtyp: 'app', appid: 'gateway-test' }),
        expiresOnTimestamp: Date.now() + 3_600_000,
      }),
    },
  };
  gateway = createKustoGateway({ clusters: [cluster], appName: 'gateway-test', limiter: createLimiter({ concurrency: 8, queue: 8, maxWaitMs: 5_000 }) });
});
beforeEach(() => kusto.reset());
after(async () => {
  kusto.reset();
  await emulator?.close();
});

const query = (text: string, extra: Partial<Parameters<KustoGateway['query']>[0]> = {}) =>
  gateway.query({ identity, cluster, database: 'Samples', text, clientRequestId: `gateway-test.q;${Math.random().toString(16).slice(2)}`, timeoutMs: 10_000, ...extra });

describe('the product gateway against the emulator', () => {
  it('holds the per-instance cap on concurrent calls: beyond it and its queue, a call is refused before anything is sent', async () => {
    const limited = createKustoGateway({ clusters: [cluster], appName: 'gateway-test', limiter: createLimiter({ concurrency: 1, queue: 1, maxWaitMs: 5_000 }) });
    const run = (id: string) => limited.query({ identity, cluster, database: 'Samples', text: 'StormEvents | count', clientRequestId: `gateway-test.${id}`, timeoutMs: 10_000 });
    kusto.setQueryDelay(300, 2);
    const running = run('first');
    const queued = run('second');
    await assert.rejects(run('third'), (error: unknown) => error instanceof BackendBusyError && error.retryAfterSeconds === 5);
    await Promise.all([running, queued]);
    assert.deepEqual(kusto.queries.map((q) => q.clientRequestId), ['gateway-test.first', 'gateway-test.second'], 'the queued call ran after the first; the refused one never left');
    const result = kustoErrorResult(new BackendBusyError(5, 'test'), { target: 'kusto:x', database: 'Samples' });
    assert.equal(result.audit?.errorClass, 'busy');
    assert.match(String(result.content[0]?.type === 'text' && result.content[0].text), /Wait 5 seconds/);
  });

  it('sends the confinement options on every query, whatever options the caller passes', async () => {
    await query('StormEvents | take 1', {
      options: { request_readonly: false, request_callout_disabled: false, request_remote_entities_disabled: false, deferpartialqueryfailures: true, request_app_name: 'x' },
    });
    const options = kusto.queries[0]?.options ?? {};
    for (const name of ['request_readonly', 'request_readonly_hardline', 'request_remote_entities_disabled', 'request_external_data_disabled', 'request_callout_disabled', 'request_sandboxed_execution_disabled', 'request_impersonation_disabled']) {
      assert.equal(options[name], true, name);
    }
    assert.equal(options.deferpartialqueryfailures, false);
    assert.equal(options.servertimeout, '00:00:12.000', 'the cluster limit is a backstop 2 s behind our 10 s deadline');
  });

  it('sends nothing for text the read-only check refuses', async () => {
    await assert.rejects(query('\u200B.drop table StormEvents'));
    await assert.rejects(query('set notruncation; StormEvents'));
    assert.equal(kusto.queries.length + kusto.commands.length, 0);
  });

  it('at its deadline, stops waiting and sends .cancel query for the request', async () => {
    kusto.setQueryDelay(Number.POSITIVE_INFINITY, 1);
    const started = Date.now();
    await assert.rejects(query('StormEvents | count', { clientRequestId: 'gateway-test.deadline;1', timeoutMs: 1000 }), (error: unknown) => error instanceof KustoCancelledError && error.reason === 'timeout');
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 990 && elapsed < 2000, `gave up after ${elapsed} ms`);
    for (let waited = 0; kusto.cancellations.length === 0 && waited < 5000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(kusto.cancellations.map((c) => [c.clientRequestId, c.wasRunning]), [['gateway-test.deadline;1', true]]);
    assert.match(kusto.commands[0]?.csl ?? '', /^\.cancel query "gateway-test\.deadline;1" with \(reason = "MCP caller went away or timed out"\)$/);
  });

  it('commands are only the ones commands.ts builds', async () => {
    const [table] = await gateway.command({ identity, cluster, database: '', command: showDatabases(), clientRequestId: 'gateway-test.c;1' });
    assert.ok(table?.rows.some((row) => row[0] === 'Samples'));
    assert.equal(kusto.commands[0]?.csl, '.show databases');
  });

  it('brings back the service error shapes: SYN0002 with @token/@line/@pos, an unknown database, a truncation in DataTable rows', async () => {
    const syntax = await query('StormEvents | wher State == "x"').catch((error: unknown) => error as KustoRequestError);
    assert.ok(syntax instanceof KustoRequestError);
    assert.deepEqual([syntax.code, syntax.details.token, syntax.details.line, syntax.details.position, classifyKustoError(syntax)], ['SYN0002', 'wher', 1, 14, 'syntax_error']);
    const database = await gateway.query({ identity, cluster, database: 'Nope', text: 'print 1', clientRequestId: 'gateway-test.db;1', timeoutMs: 10_000 }).catch((error: unknown) => error as KustoRequestError);
    assert.ok(database instanceof KustoRequestError);
    assert.equal(classifyKustoError(database), 'unknown_database');
    const cut = await query('StormEvents | project EventId', { options: { truncationmaxrecords: 3 } });
    assert.deepEqual([cut.primary[0]?.rows.length, cut.partialErrors[0]?.code], [3, 'LimitsExceeded']);
  });
});
