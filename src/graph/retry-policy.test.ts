import { test } from 'node:test';
import assert from 'node:assert/strict';
import { graphShouldRetry, retryAfterSeconds } from './retry-policy.ts';

const response = (status: number, retryAfter?: string) => ({ status, headers: new Headers(retryAfter === undefined ? {} : { 'retry-after': retryAfter }) });
const policy = { maxRetries: 3, maxTotalWaitSeconds: 60, baseDelaySeconds: 1 };

test('Retry-After is read as seconds or as an HTTP date', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(retryAfterSeconds('41', now), 41);
  assert.equal(retryAfterSeconds('Thu, 01 Jan 2026 00:00:30 GMT', now), 30);
  assert.equal(retryAfterSeconds('Wed, 31 Dec 2025 23:00:00 GMT', now), 0);
  assert.equal(retryAfterSeconds('soon', now), undefined);
  assert.equal(retryAfterSeconds(null, now), undefined);
});

test('429 is retried for every method; 503 and 504 only for GET and HEAD', () => {
  const retry = graphShouldRetry(policy);
  for (const method of ['GET', 'POST', 'PATCH', 'PUT', 'DELETE']) assert.equal(retry(1, 0, 'https://g/v1.0/x', { method }, response(429, '1')), true, method);
  for (const status of [503, 504]) {
    assert.equal(retry(1, 0, 'https://g/v1.0/x', { method: 'GET' }, response(status)), true);
    assert.equal(retry(1, 0, 'https://g/v1.0/x', { method: 'HEAD' }, response(status)), true);
    for (const method of ['POST', 'PATCH', 'PUT', 'DELETE']) assert.equal(retry(1, 0, 'https://g/v1.0/x', { method }, response(status)), false, `${method} ${status}`);
  }
  // A Request object carries its own method.
  assert.equal(retry(1, 0, new Request('https://g/v1.0/x', { method: 'POST' }), {}, response(503)), false);
});

test('the waits of one request add up to the budget, then the answer is returned instead', () => {
  const retry = graphShouldRetry({ ...policy, maxTotalWaitSeconds: 50 });
  const options = { method: 'GET' };
  assert.equal(retry(1, 0, 'u', options, response(429, '20')), true);
  assert.equal(retry(1, 1, 'u', options, response(429, '20')), true);
  assert.equal(retry(1, 2, 'u', options, response(429, '20')), false, '60 s would pass the 50 s budget');
  // Another request has its own budget.
  assert.equal(retry(1, 0, 'u', { method: 'GET' }, response(429, '20')), true);
});

test('a Retry-After beyond the handler cap (180 s) is never retried early', () => {
  const retry = graphShouldRetry({ ...policy, maxTotalWaitSeconds: 180 });
  assert.equal(retry(1, 0, 'u', { method: 'GET' }, response(429, '315')), false);
  assert.equal(retry(1, 0, 'u', { method: 'GET' }, response(429, '180')), true);
});

test('without Retry-After the backoff estimate counts against the budget', () => {
  const retry = graphShouldRetry({ ...policy, maxTotalWaitSeconds: 5 });
  const options = { method: 'GET' };
  assert.equal(retry(1, 0, 'u', options, response(503)), true, 'first retry: 1 s + jitter');
  assert.equal(retry(1, 1, 'u', options, response(503)), false, 'second: 2 + 1 s + jitter passes 5 s');
});

test('nothing is retried once the call is aborted', () => {
  const controller = new AbortController();
  controller.abort();
  assert.equal(graphShouldRetry(policy)(1, 0, 'u', { method: 'GET', signal: controller.signal }, response(429, '1')), false);
});
