import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BackendBusyError, createLimiter } from './limiter.ts';

test('runs up to the cap at once, queues a few, refuses the rest at once with a retry hint', async () => {
  const limiter = createLimiter({ concurrency: 2, queue: 1, maxWaitMs: 5_000 });
  const first = await limiter.acquire();
  const second = await limiter.acquire();
  let thirdGranted = false;
  const third = limiter.acquire().then((release) => {
    thirdGranted = true;
    return release;
  });
  await assert.rejects(limiter.acquire(), (error: unknown) => error instanceof BackendBusyError && error.retryAfterSeconds === 5);
  assert.deepEqual([limiter.active, limiter.waiting], [2, 1]);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(thirdGranted, false, 'the queued call waits while both slots are busy');
  first();
  const release = await third;
  assert.equal(thirdGranted, true, 'a freed slot goes to the first waiter');
  first(); // releasing twice frees one slot only
  assert.deepEqual([limiter.active, limiter.waiting], [2, 0]);
  second();
  release();
  assert.equal(limiter.active, 0);
});

test('a waiter gives up after the longest wait, or when its call is cancelled, and leaves the queue', async () => {
  const limiter = createLimiter({ concurrency: 1, queue: 5, maxWaitMs: 30 });
  const busy = await limiter.acquire();
  await assert.rejects(limiter.acquire(), /waited 30 ms for a slot/);
  const controller = new AbortController();
  const cancelled = limiter.acquire(controller.signal);
  controller.abort(new Error('client went away'));
  await assert.rejects(cancelled, /client went away/);
  assert.equal(limiter.waiting, 0);
  busy();
  assert.equal(limiter.active, 0, 'nothing was left holding a slot');
});
