import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAuditor } from './auditor.ts';
import { memorySink } from '../../test/support/memory-sink.ts';

const call = {
  requestId: 'r1',
  tool: 't',
  outcome: 'success' as const,
  durationMs: 1.23456,
  jsonRpcId: 1,
  arguments: { secret: 'value' },
  sensitiveArguments: ['secret'],
  resultBytes: 10,
};

test('flush waits for events still waiting on the fingerprint key', async () => {
  const sink = memorySink();
  let release: (key: string) => void = () => {};
  const key = new Promise<string>((resolve) => (release = resolve));
  const auditor = createAuditor({ sink, fingerprintKey: () => key });
  auditor.toolCall(call);
  auditor.toolCall({ ...call, jsonRpcId: 2 });
  const flushed = auditor.flush();
  assert.equal(sink.events.length, 0);
  release('k');
  await flushed;
  assert.equal(sink.events.length, 2);
  assert.match(sink.events[0]?.properties.arguments ?? '', /fp=/);
  assert.equal(sink.events[0]?.measurements.durationMs, 1.235);
});

test('an unavailable fingerprint key does not lose the event', async () => {
  const sink = memorySink();
  const errors: string[] = [];
  const auditor = createAuditor({ sink, fingerprintKey: async () => Promise.reject(new Error('vault down')), onError: (m) => errors.push(m) });
  auditor.toolCall(call);
  await auditor.flush();
  assert.equal(sink.events.length, 1);
  assert.equal(JSON.parse(sink.events[0]?.properties.arguments ?? '{}').secret, '[redacted sensitive len=5]');
  assert.match(errors[0] ?? '', /fingerprint key unavailable \(vault down\)/);
});

test('empty properties are left out', async () => {
  const sink = memorySink();
  const auditor = createAuditor({ sink });
  auditor.rejected({ requestId: 'r', reason: 'parse_error', outcome: 'error', status: 400, httpMethod: 'POST', path: '/mcp' });
  await auditor.flush();
  assert.deepEqual(Object.keys(sink.events[0]?.properties ?? {}).sort(), ['errorClass', 'httpMethod', 'outcome', 'path', 'recordId', 'requestId', 'schemaVersion', 'statusCode']);
});

test('a flush deadline stops waiting for a hanging fingerprint key: events go out flagged, none lost', async () => {
  const sink = memorySink();
  const auditor = createAuditor({ sink, fingerprintKey: () => new Promise<string>(() => {}) });
  for (let id = 1; id <= 3; id++) auditor.toolCall({ ...call, jsonRpcId: id });
  const started = Date.now();
  await auditor.flush(Date.now() + 200);
  assert.ok(Date.now() - started < 1_000, 'flush returned by its deadline');
  assert.equal(sink.events.length, 3);
  for (const event of sink.events) {
    assert.equal(event.properties.fingerprint, 'unavailable');
    assert.equal(JSON.parse(event.properties.arguments ?? '{}').secret, '[redacted sensitive len=5]');
  }
});

test('every record has its own id', async () => {
  const sink = memorySink();
  const auditor = createAuditor({ sink });
  for (let id = 1; id <= 50; id++) auditor.toolCall({ ...call, jsonRpcId: id });
  await auditor.flush();
  const ids = new Set(sink.events.map((event) => event.properties.recordId));
  assert.equal(ids.size, 50);
  for (const id of ids) assert.match(id ?? '', /^[0-9a-f-]{36}$/);
});
