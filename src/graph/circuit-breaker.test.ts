import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CircuitOpenError, createCircuitBreaker, isServiceFailure } from './circuit-breaker.ts';

function clock() {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

test('opens after N consecutive failures and fails fast for the cool-down', () => {
  const time = clock();
  const breaker = createCircuitBreaker({ failureThreshold: 3, cooldownMs: 30_000, now: time.now });
  breaker.failure();
  breaker.failure();
  assert.equal(breaker.admit(), undefined);
  breaker.failure();
  assert.equal(breaker.state(), 'open');
  assert.deepEqual(breaker.admit(), { retryAfterMs: 30_000 });
  time.advance(10_000);
  assert.deepEqual(breaker.admit(), { retryAfterMs: 20_000 });
});

test('a success in between resets the count: only consecutive failures open it', () => {
  const breaker = createCircuitBreaker({ failureThreshold: 2, cooldownMs: 1000, now: clock().now });
  breaker.failure();
  breaker.success();
  breaker.failure();
  assert.equal(breaker.state(), 'closed');
});

test('after the cool-down one probe goes through; its success closes, its failure reopens', () => {
  const time = clock();
  const breaker = createCircuitBreaker({ failureThreshold: 1, cooldownMs: 5000, now: time.now });
  breaker.failure();
  time.advance(5000);
  assert.equal(breaker.state(), 'half-open');
  assert.equal(breaker.admit(), undefined, 'the probe');
  assert.ok(breaker.admit(), 'others wait while the probe is out');
  breaker.failure();
  assert.equal(breaker.state(), 'open');
  time.advance(5000);
  assert.equal(breaker.admit(), undefined);
  breaker.success();
  assert.equal(breaker.state(), 'closed');
  assert.equal(breaker.admit(), undefined);
});

test('a probe that proved nothing (cancelled) lets the next request probe', () => {
  const time = clock();
  const breaker = createCircuitBreaker({ failureThreshold: 1, cooldownMs: 1000, now: time.now });
  breaker.failure();
  time.advance(1000);
  assert.equal(breaker.admit(), undefined);
  breaker.neutral();
  assert.equal(breaker.admit(), undefined);
});

test('threshold 0 turns the breaker off', () => {
  const breaker = createCircuitBreaker({ failureThreshold: 0, cooldownMs: 1000 });
  for (let i = 0; i < 10; i++) breaker.failure();
  assert.equal(breaker.admit(), undefined);
});

test('service failures are 5xx except 501; the error says when to retry', () => {
  assert.deepEqual([429, 404, 500, 501, 502, 503, 504].map(isServiceFailure), [false, false, true, false, true, true, true]);
  assert.equal(new CircuitOpenError(1500).retryAfterSeconds, 2);
});
