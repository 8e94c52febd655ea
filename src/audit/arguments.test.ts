import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fingerprinterFor, looksLikeSecret, summarizeArguments } from './arguments.ts';

test('declared-sensitive arguments keep only length and a keyed fingerprint', () => {
  const fp = fingerprinterFor('key-1');
  const summary = JSON.parse(summarizeArguments({ query: 'T | take 1', parameters: { state: 'TEXAS' } }, ['parameters'], fp));
  assert.equal(summary.query, 'T | take 1');
  assert.match(summary.parameters, /^\[redacted sensitive len=17 fp=[0-9a-f]{16}\]$/);
  assert.ok(!JSON.stringify(summary).includes('TEXAS'));
  const again = JSON.parse(summarizeArguments({ parameters: { state: 'TEXAS' } }, ['parameters'], fp));
  assert.equal(again.parameters, summary.parameters, 'same value, same fingerprint: correlatable');
  const otherKey = JSON.parse(summarizeArguments({ parameters: { state: 'TEXAS' } }, ['parameters'], fingerprinterFor('key-2')));
  assert.notEqual(otherKey.parameters, summary.parameters);
  const noKey = JSON.parse(summarizeArguments({ parameters: 'x' }, ['parameters'], undefined));
  assert.equal(noKey.parameters, '[redacted sensitive len=1]');
});

test('credential-looking values are redacted wherever they appear', () => {
  const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlc2lnbmF0dXJl';
  for (const secret of [jwt, `Bearer ${'a'.repeat(30)}`, 'AccountKey=abcdefghijklmnop==', 'https://x/y?sv=1&sig=abcdefghijklmnopqrstuv%3D', 'password: hunter22']) {
    assert.ok(looksLikeSecret(secret), secret);
    const summary = summarizeArguments({ nested: { list: [secret] } }, [], undefined);
    assert.ok(!summary.includes(secret.slice(-12)), summary);
    assert.match(summary, /redacted secret-like/);
  }
  assert.ok(!looksLikeSecret('StormEvents | where State has "password reset"'));
});

test('long values are cut and the whole summary is bounded', () => {
  const summary = JSON.parse(summarizeArguments({ query: 'x'.repeat(500), list: Array.from({ length: 30 }, (_, i) => i) }, [], undefined));
  assert.match(summary.query, /…\[\+300 chars\]$/);
  assert.equal(summary.list.length, 21);
  assert.ok(summarizeArguments({ a: Array.from({ length: 20 }, () => 'y'.repeat(199)) }, [], undefined).length <= 4096 + 20);
});
