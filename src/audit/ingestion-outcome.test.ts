import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyIngestionResponse, recordIdsOf, retryAfterMs, unansweredOutcome } from './ingestion-outcome.ts';

const envelope = (recordId?: string) => ({
  name: 'Microsoft.ApplicationInsights.Event',
  data: { baseType: 'EventData', baseData: { name: 'mcp.tool.call', properties: recordId ? { recordId } : {} } },
});
const ids = ['a', undefined, 'c', 'd'];

test('record ids are read per envelope index; other telemetry has none', () => {
  assert.deepEqual(recordIdsOf(JSON.stringify([envelope('a'), envelope(), envelope('c'), envelope('d')])), ids);
  assert.deepEqual(recordIdsOf('not json'), []);
  assert.deepEqual(recordIdsOf(undefined), []);
});

test('200: every record delivered', () => {
  const body = JSON.stringify({ itemsReceived: 4, itemsAccepted: 4, errors: [] });
  assert.deepEqual(classifyIngestionResponse(ids, 200, body), { delivered: ['a', 'c', 'd'], retry: [], rejected: [] });
});

test('206 (a recorded Breeze answer shape): per-item statuses decide, the rest is delivered', () => {
  const body = JSON.stringify({
    itemsReceived: 4,
    itemsAccepted: 2,
    errors: [
      { index: 0, statusCode: 500, message: 'Internal server error. Please retry.' },
      { index: 3, statusCode: 400, message: "Field 'name' on type 'Envelope' is required but missing or empty." },
    ],
  });
  const outcome = classifyIngestionResponse(ids, 206, body);
  assert.deepEqual([outcome.delivered, outcome.retry, outcome.rejected], [['c'], ['a'], ['d']]);
  assert.match(outcome.reason ?? '', /^HTTP 206: 500 Internal server error.*; 400 Field 'name'/);
});

test('whole-batch statuses: 429/5xx/401 transient, 400/404 permanent; Retry-After kept', () => {
  assert.deepEqual(classifyIngestionResponse(ids, 503, '').retry, ['a', 'c', 'd']);
  assert.deepEqual(classifyIngestionResponse(ids, 401, '').retry, ['a', 'c', 'd'], 'a token problem can clear');
  const throttled = classifyIngestionResponse(ids, 429, '', '7');
  assert.deepEqual([throttled.retry.length, throttled.retryAfterMs], [3, 7000]);
  assert.deepEqual(classifyIngestionResponse(ids, 400, '{"errors":[]}').rejected, ['a', 'c', 'd']);
  assert.deepEqual(classifyIngestionResponse(ids, 404, 'Not Found').rejected, ['a', 'c', 'd']);
});

test('no answer at all is transient for every record', () => {
  const outcome = unansweredOutcome(ids, new Error('ManagedIdentityCredential: no token'));
  assert.deepEqual(outcome.retry, ['a', 'c', 'd']);
  assert.match(outcome.reason ?? '', /no answer from ingestion \(Error: ManagedIdentityCredential: no token\)/);
});

test('Retry-After: seconds or an HTTP date', () => {
  const now = Date.parse('2026-12-01T12:00:00Z');
  assert.equal(retryAfterMs('3', now), 3000);
  assert.equal(retryAfterMs('Tue, 01 Dec 2026 12:00:05 GMT', now), 5000);
  assert.equal(retryAfterMs('soon', now), undefined);
  assert.equal(retryAfterMs(null, now), undefined);
});
