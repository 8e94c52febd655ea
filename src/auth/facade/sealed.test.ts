import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyRingFrom } from './sealed.ts';

const KEY_A = 'a'.repeat(16) + '0123456789abcdef0123';
const KEY_B = 'b'.repeat(16) + 'fedcba9876543210fedc';

test('a sealed value opens with the ring that sealed it, for the same purpose only', () => {
  const ring = keyRingFrom(KEY_A);
  const sealed = ring.seal('state', { c: 'client', s: 'st' });
  assert.deepEqual(ring.open('state', sealed), { ok: true, payload: { c: 'client', s: 'st' } });
  assert.deepEqual(ring.open('code', sealed), { ok: false, reason: 'tampered' }, 'a state is not a code');
  assert.doesNotMatch(sealed, /client/, 'the payload is encrypted, not just signed');
});

test('changing any character of a sealed value is refused', () => {
  const ring = keyRingFrom(KEY_A);
  const sealed = ring.seal('code', { e: 'entra-code', v: 'verifier' });
  const start = sealed.lastIndexOf('.') + 1;
  for (let index = start; index < sealed.length; index += 7) {
    const flipped = sealed.slice(0, index) + (sealed[index] === 'A' ? 'B' : 'A') + sealed.slice(index + 1);
    assert.equal(ring.open('code', flipped).ok, false, `position ${index}`);
  }
  assert.deepEqual(ring.open('code', 'v1.nope'), { ok: false, reason: 'malformed' });
});

test('rotation: a ring with the new key first still opens what the old key sealed; without the old key it does not', () => {
  const old = keyRingFrom(KEY_A).seal('client', { u: ['http://127.0.0.1/cb'] });
  assert.equal(keyRingFrom(`${KEY_B} ${KEY_A}`).open('client', old).ok, true);
  assert.deepEqual(keyRingFrom(KEY_B).open('client', old), { ok: false, reason: 'unknown_key' });
  const fresh = keyRingFrom(`${KEY_B} ${KEY_A}`).seal('client', { u: [] });
  assert.equal(keyRingFrom(KEY_B).open('client', fresh).ok, true, 'the first key seals');
});

test('expiry is enforced', () => {
  let now = 1_000_000_000_000;
  const ring = keyRingFrom(KEY_A, () => now);
  const sealed = ring.seal('state', { s: 1 }, { ttlSeconds: 600 });
  now += 599_000;
  assert.equal(ring.open('state', sealed).ok, true);
  now += 2_000;
  assert.deepEqual(ring.open('state', sealed), { ok: false, reason: 'expired' });
});

test('a weak or empty secret is refused without echoing it', () => {
  assert.throws(() => keyRingFrom('short-secret'), (error: Error) => !error.message.includes('short-secret'));
  assert.throws(() => keyRingFrom('  '));
});
