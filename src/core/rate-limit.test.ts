import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anonymousPrincipal, createPrincipal } from '../auth/principal.ts';
import { loadConfig } from '../config.ts';
import { createRateLimiter, rateLimitKey } from './rate-limit.ts';

function clock(start = 1_000_000) {
  let time = start;
  return { now: () => time, advance: (ms: number) => void (time += ms) };
}

describe('token bucket', () => {
  it('allows a burst, then refuses with the seconds until the next token, then refills at the rate', () => {
    const c = clock();
    const limiter = createRateLimiter({ perMinute: 60, burst: 3, now: c.now });
    for (let i = 0; i < 3; i++) assert.deepEqual(limiter.take('a'), { ok: true }, `call ${i + 1}`);
    assert.deepEqual(limiter.take('a'), { ok: false, retryAfterSeconds: 1 });
    c.advance(400);
    assert.deepEqual(limiter.take('a'), { ok: false, retryAfterSeconds: 1 }, '0.4 of a token is not a token; the wait rounds up');
    c.advance(600);
    assert.deepEqual(limiter.take('a'), { ok: true }, 'one token a second at 60 a minute');
    assert.equal(limiter.take('a').ok, false);
    c.advance(60_000);
    for (let i = 0; i < 3; i++) assert.equal(limiter.take('a').ok, true);
    assert.equal(limiter.take('a').ok, false, 'a long pause refills to the burst, not beyond');
  });

  it('keeps callers apart', () => {
    const c = clock();
    const limiter = createRateLimiter({ perMinute: 6, burst: 1, now: c.now });
    assert.equal(limiter.take('a').ok, true);
    assert.deepEqual(limiter.take('a'), { ok: false, retryAfterSeconds: 10 });
    assert.equal(limiter.take('b').ok, true, 'b has its own bucket');
  });

  it('takes a batch all or nothing', () => {
    const c = clock();
    const limiter = createRateLimiter({ perMinute: 60, burst: 5, now: c.now });
    assert.equal(limiter.take('a', 4).ok, true);
    assert.deepEqual(limiter.take('a', 3), { ok: false, retryAfterSeconds: 2 });
    assert.equal(limiter.take('a', 1).ok, true, 'the refused batch took nothing');
    // More than the bucket can hold passes from a full bucket, and the caller then pays for every call.
    assert.equal(limiter.take('b', 9).ok, true);
    assert.deepEqual(limiter.take('b'), { ok: false, retryAfterSeconds: 5 }, '4 tokens of debt plus the one asked for, at one a second');
    c.advance(4_000);
    assert.deepEqual(limiter.take('b'), { ok: false, retryAfterSeconds: 1 });
    c.advance(1_000);
    assert.equal(limiter.take('b').ok, true);
    // A bucket in debt is not swept as idle: the debt is kept.
    const d = clock();
    const sweeping = createRateLimiter({ perMinute: 60, burst: 2, now: d.now });
    sweeping.take('debtor', 10);
    d.advance(2_000);
    sweeping.take('other');
    assert.equal(sweeping.size, 2);
    assert.equal(sweeping.take('debtor').ok, false);
  });

  it('drops buckets that have refilled (idle callers cost no memory) and never holds more than maxBuckets', () => {
    const c = clock();
    const limiter = createRateLimiter({ perMinute: 60, burst: 2, maxBuckets: 3, now: c.now });
    for (const key of ['a', 'b', 'c']) limiter.take(key);
    assert.equal(limiter.size, 3);
    limiter.take('d');
    assert.equal(limiter.size, 3, 'the least recently used bucket went');
    c.advance(2_000);
    limiter.take('e');
    assert.equal(limiter.size, 1, 'a sweep after a full refill time dropped every idle bucket');
    // LRU: a bucket in use is kept over idle ones.
    const d = clock();
    const lru = createRateLimiter({ perMinute: 60, burst: 2, maxBuckets: 2, now: d.now });
    lru.take('busy');
    lru.take('busy');
    lru.take('idle');
    lru.take('busy');
    lru.take('new');
    assert.equal(lru.take('busy').ok, false, 'busy kept its (empty) bucket: idle was evicted, not busy');
  });
});

describe('rate limit keys and settings', () => {
  it('keys by tenant and object id, by app id without one, else one bucket per auth mode', () => {
    const ada = createPrincipal({ authMode: 'entra', idtyp: 'user', objectId: 'oid-1', tenantId: 't1' });
    const adaElsewhere = createPrincipal({ authMode: 'entra', idtyp: 'user', objectId: 'oid-1', tenantId: 't2' });
    const appOnly = createPrincipal({ authMode: 'easyAuth', idtyp: 'app', appId: 'client-1' });
    assert.equal(rateLimitKey(ada), 'entra:t1:oid-1');
    assert.notEqual(rateLimitKey(ada), rateLimitKey(adaElsewhere));
    assert.equal(rateLimitKey(appOnly), 'easyAuth:app:client-1');
    assert.equal(rateLimitKey(anonymousPrincipal('functionKey')), 'functionKey:anonymous');
    assert.equal(rateLimitKey(anonymousPrincipal('functionKey')), rateLimitKey(anonymousPrincipal('functionKey')), 'every functionKey caller shares one bucket');
  });

  it('defaults to 120 a minute with bursts of 30, off in none mode, 0 turns it off; bad values name the setting', () => {
    assert.deepEqual(loadConfig({}).rateLimit, { perMinute: 120, burst: 30 });
    assert.deepEqual(loadConfig({ MCP_AUTH_MODE: 'none' }).rateLimit, { perMinute: 0, burst: 30 });
    assert.deepEqual(loadConfig({ MCP_AUTH_MODE: 'none', MCP_RATE_LIMIT_PER_MINUTE: '10' }).rateLimit, { perMinute: 10, burst: 30 });
    assert.deepEqual(loadConfig({ MCP_RATE_LIMIT_PER_MINUTE: '0', MCP_RATE_LIMIT_BURST: '5' }).rateLimit, { perMinute: 0, burst: 5 });
    assert.throws(() => loadConfig({ MCP_RATE_LIMIT_PER_MINUTE: '-1' }), /MCP_RATE_LIMIT_PER_MINUTE must be a whole number from 0 to 100000/);
    assert.throws(() => loadConfig({ MCP_RATE_LIMIT_PER_MINUTE: '1.5' }), /MCP_RATE_LIMIT_PER_MINUTE must be a whole number/);
    assert.throws(() => loadConfig({ MCP_RATE_LIMIT_BURST: '0' }), /MCP_RATE_LIMIT_BURST must be a whole number from 1 to 10000/);
  });
});
