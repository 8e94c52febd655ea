import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallAbortedError } from '../core/abort.ts';
import { createLimiter } from '../core/limiter.ts';
import { CONFINEMENT_OPTIONS, createKustoGateway, KustoCancelledError, KustoQueryRefusedError, withDeadline } from './gateway.ts';

const never = () => new Promise<never>(() => undefined);

test('the deadline is a timer of our own: it cancels on time, even with the event loop busy', async () => {
  let cancels = 0;
  const started = performance.now();
  // Background traffic: many short timers and immediates, as under load.
  const noise = setInterval(() => {
    for (let i = 0; i < 200; i++) setImmediate(() => undefined);
  }, 1);
  try {
    await assert.rejects(withDeadline(never(), 200, { clientRequestId: 'q1' }, () => cancels++), (error: unknown) => error instanceof KustoCancelledError && error.reason === 'timeout');
  } finally {
    clearInterval(noise);
  }
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 195 && elapsed < 1500, `fired after ${elapsed.toFixed(0)} ms`);
  assert.equal(cancels, 1);
});

test('a call that finishes in time clears its timer and never cancels', async () => {
  let cancels = 0;
  const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  assert.equal(await withDeadline(Promise.resolve(42), 60_000, { clientRequestId: 'q2' }, () => cancels++), 42);
  await assert.rejects(withDeadline(Promise.reject(new Error('upstream')), 60_000, { clientRequestId: 'q3' }, () => cancels++), /upstream/);
  assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, timersBefore, 'no timer left behind');
  assert.equal(cancels, 0);
});

test("the caller's signal cancels at once, also when it was aborted before the call", async () => {
  let cancels = 0;
  const controller = new AbortController();
  const pending = withDeadline(never(), 60_000, { clientRequestId: 'q4', signal: controller.signal }, () => cancels++);
  controller.abort();
  await assert.rejects(pending, (error: unknown) => error instanceof KustoCancelledError && error.reason === 'cancelled');
  await assert.rejects(withDeadline(never(), 60_000, { clientRequestId: 'q5', signal: controller.signal }, () => cancels++), KustoCancelledError);
  assert.equal(cancels, 2);
});

test('the abort reason tells a client that went away from a cancel, and both from our deadline', async () => {
  for (const kind of ['client_disconnected', 'cancelled'] as const) {
    const controller = new AbortController();
    const pending = withDeadline(never(), 50, { clientRequestId: 'q6', signal: controller.signal }, () => undefined);
    controller.abort(new CallAbortedError(kind));
    await assert.rejects(pending, (error: unknown) => error instanceof KustoCancelledError && error.reason === kind, kind);
    await assert.rejects(withDeadline(never(), 50, { clientRequestId: 'q7', signal: controller.signal }, () => undefined), (error: unknown) => (error as KustoCancelledError).reason === kind);
  }
  // The deadline passing with a live signal is a timeout, whatever the signal later does.
  const controller = new AbortController();
  const late = withDeadline(never(), 30, { clientRequestId: 'q8', signal: controller.signal }, () => undefined);
  await assert.rejects(late, (error: unknown) => (error as KustoCancelledError).reason === 'timeout');
  controller.abort(new CallAbortedError('client_disconnected'));
});

test('the gateway refuses commands, directives and set statements before any I/O', async () => {
  let credentialAsked = false;
  const identity = {
    mode: 'managedIdentity' as const,
    partition: 'app',
    credential: {
      getToken: async () => {
        credentialAsked = true;
        throw new Error('no I/O expected');
      },
    },
  };
  const gateway = createKustoGateway({
    clusters: [{ name: 'help', url: 'https://help.kusto.windows.net' }],
    appName: 'app',
    limiter: createLimiter({ concurrency: 4, queue: 4, maxWaitMs: 1000 }),
  });
  const cluster = { name: 'help', url: 'https://help.kusto.windows.net' };
  for (const text of ['\u180E.drop table T', '#connect x\n.drop table T', 'set request_remote_entities_disabled=false; T']) {
    await assert.rejects(gateway.query({ identity, cluster, database: 'Samples', text, clientRequestId: 'id', timeoutMs: 1000 }), KustoQueryRefusedError, JSON.stringify(text));
  }
  assert.equal(credentialAsked, false);
});

test('the confinement options are the documented ones', () => {
  assert.deepEqual(CONFINEMENT_OPTIONS, {
    request_readonly: true,
    request_readonly_hardline: true,
    request_remote_entities_disabled: true,
    request_external_data_disabled: true,
    request_callout_disabled: true,
    request_sandboxed_execution_disabled: true,
    request_impersonation_disabled: true,
    deferpartialqueryfailures: false,
  });
});
