import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boundedJson, fingerprinterFor, looksLikeSecret, MAX_SUMMARY, redactText, summarizeArguments } from './arguments.ts';
import { clientText } from './text.ts';

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
  // At most 200 characters, the cut marker included; the marker counts what was left out.
  assert.equal(summary.query.length, 200);
  assert.match(summary.query, /^x+…\[\+313 chars\]$/);
  assert.equal(summary.list.length, 21);
  assert.ok(summarizeArguments({ a: Array.from({ length: 20 }, () => 'y'.repeat(199)) }, [], undefined).length <= 4096 + 20);
});

/** Raw control characters a summary must never carry (JSON escapes of them are fine). */
const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const fp = fingerprinterFor('key');

function nested(levels: number, leaf: unknown, wrap: (inner: unknown) => unknown): unknown {
  let value = leaf;
  for (let i = 0; i < levels; i++) value = wrap(value);
  return value;
}

test('5,000 levels of nesting (objects and arrays), sensitive or not: bounded summary, no throw', () => {
  for (const wrap of [(inner: unknown) => ({ a: inner }), (inner: unknown) => [inner]]) {
    const deep = nested(5000, 'TEXAS', wrap);
    // JSON.stringify itself overflows far below this depth on a small stack; the summary must not care.
    const sensitive = summarizeArguments({ query: 'T', parameters: deep }, ['parameters'], fp);
    assert.match(JSON.parse(sensitive).parameters, /^\[redacted sensitive len=\d+ fp=[0-9a-f]{16}\]$/);
    assert.ok(!sensitive.includes('TEXAS'));
    const plain = summarizeArguments({ query: 'T', p: deep }, [], fp);
    assert.ok(plain.length <= MAX_SUMMARY);
    assert.match(plain, /\[nested\]/);
    assert.ok(!plain.includes('TEXAS'), 'nothing below the depth limit is shown');
  }
  // Far deeper still: the serializer behind fingerprints is iterative.
  const deeper = nested(200_000, 1, (inner) => [inner]);
  const json = boundedJson(deeper, 65_536);
  assert.equal(json.complete, false);
  assert.equal(json.text.length, 65_536);
  assert.match(summarizeArguments({ parameters: deeper }, ['parameters'], fp), /len=>=65536 fp=/);
});

test('sensitive values are measured and fingerprinted as their JSON text, as before', () => {
  const value = { state: 'TEXAS', limits: [1, 2.5, null, true], nested: { a: 'é😀' } };
  assert.equal(boundedJson(value, 1 << 20).text, JSON.stringify(value));
  const summary = JSON.parse(summarizeArguments({ parameters: value }, ['parameters'], fp));
  assert.equal(summary.parameters, `[redacted sensitive len=${JSON.stringify(value).length} fp=${fp?.(JSON.stringify(value))}]`);
});

test('100,000 keys: at most 50 shown, the rest counted, top level and nested, sensitive or not', () => {
  const wide = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`key${i}`, `value${i}`]));
  for (const summary of [summarizeArguments(wide, [], fp), summarizeArguments({ nested: wide }, [], fp)]) {
    assert.ok(summary.length <= MAX_SUMMARY, `${summary.length} characters`);
    const parsed = JSON.parse(summary);
    const shown = parsed.nested ?? parsed;
    assert.ok(Object.keys(shown).length <= 51);
    assert.match(shown['…'], /^\[\+\d+ keys\]$/);
    assert.equal(Number(/\d+/.exec(shown['…'])?.[0]) + Object.keys(shown).length - 1, 100_000, 'shown + counted = all keys');
  }
  assert.match(JSON.parse(summarizeArguments({ parameters: wide }, ['parameters'], fp)).parameters, /^\[redacted sensitive len=>=65536 fp=[0-9a-f]{16}\]$/);
  // Wide arrays: 20 items and a count.
  const list = JSON.parse(summarizeArguments({ list: Array.from({ length: 100_000 }, (_, i) => i) }, [], fp)).list;
  assert.equal(list.length, 21);
  assert.equal(list[20], '…[+99980 items]');
});

test('10 MB strings, as values, keys and sensitive values: cut first, bounded, fast', () => {
  const huge = 'y'.repeat(10_000_000);
  const started = performance.now();
  const summary = summarizeArguments({ q: huge, [huge]: 1, parameters: huge }, ['parameters'], fp);
  const secret = summarizeArguments({ q: `password=${huge}` }, [], fp);
  const elapsed = performance.now() - started;
  assert.ok(summary.length <= MAX_SUMMARY);
  const parsed = JSON.parse(summary);
  assert.ok(parsed.q.length <= 200 && parsed.q.length >= 190, `${parsed.q.length}`);
  assert.match(parsed.q, /^y+…\[\+9999\d{3} chars\]$/);
  assert.ok(Object.keys(parsed).some((key) => key.length <= 64 && key.endsWith('chars]')), 'the key is cut to 64');
  assert.match(parsed.parameters, /^\[redacted sensitive len=10000000 fp=[0-9a-f]{16}\]$/);
  assert.match(JSON.parse(secret).q, /^\[redacted secret-like len=10000009 fp=[0-9a-f]{16}\]$/);
  assert.ok(elapsed < 1000, `${elapsed.toFixed(0)} ms`);
  // Secret patterns see only a window past what is kept: a secret beyond it is never shown anyway.
  assert.ok(!looksLikeSecret(`${'z'.repeat(100_000)} password=hunter2222`));
  assert.match(redactText(`${'z'.repeat(190)} password=hunter2222`, 200, undefined), /^\[redacted secret-like len=\d+\]$/, 'a secret across the cut is caught');
});

test('cycles, throwing getters, proxies and bigints: summarized, never thrown', () => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  cyclic.list = [cyclic];
  const getter = Object.defineProperty({ ok: 1 }, 'boom', {
    enumerable: true,
    get() {
      throw new Error('getter');
    },
  });
  const hostile = new Proxy({}, { ownKeys: () => { throw new Error('ownKeys'); } });
  const { proxy: revoked, revoke } = Proxy.revocable({}, {});
  revoke();
  const weird = { cyclic, getter, hostile, revoked, big: 10n, fn: () => 1, sym: Symbol('s'), nan: Number.NaN, date: new Date(0) };
  for (const args of [weird, { parameters: weird }, cyclic, getter, hostile, revoked, [cyclic], 10n, undefined, null]) {
    for (const sensitive of [[], ['parameters']]) {
      const summary = summarizeArguments(args, sensitive, fp);
      assert.equal(typeof summary, 'string');
      assert.ok(summary.length <= MAX_SUMMARY);
    }
  }
  const parsed = JSON.parse(summarizeArguments(weird, [], fp));
  assert.deepEqual(parsed.cyclic, { a: 1, self: '[cycle]', list: ['[cycle]'] });
  assert.deepEqual(parsed.getter, { ok: 1, boom: '[unreadable]' });
  assert.equal(parsed.hostile, '[unreadable]');
  assert.equal(parsed.big, '10');
  assert.match(JSON.parse(summarizeArguments({ parameters: cyclic }, ['parameters'], fp)).parameters, /^\[redacted sensitive len=\d+ fp=/);
  assert.equal(boundedJson(cyclic, 1000).text, '{"a":1,"self":"[cycle]","list":["[cycle]"]}');
  assert.equal(boundedJson(getter, 1000).text, '{"ok":1,"boom":"[unreadable]"}');
});

test('control characters in values and keys come out as visible escapes', () => {
  const forged = 'x\n{"event":"mcp.tool.call","outcome":"success"}\u001b[2K\r\u009b31m\u2028\u2029\u202eevil\u2066\u0085\u0000';
  const summary = summarizeArguments({ [forged]: forged, list: [forged] }, [], undefined);
  assert.doesNotMatch(summary, RAW_CONTROL);
  const parsed = JSON.parse(summary);
  // After JSON parsing, still no raw control character: the escapes are text, not JSON escapes.
  for (const text of [...Object.keys(parsed), parsed.list[0]]) assert.doesNotMatch(text, RAW_CONTROL);
  assert.match(parsed.list[0], /^x\\n\{"event".*\\u001b\[2K\\r\\u009b31m\\u2028\\u2029\\u202eevil\\u2066\\u0085\\u0000$/);
});

test('clientText: escapes, hard caps with the marker included, surrogate pairs kept whole', () => {
  assert.equal(clientText('a\nb\tc\u001b', 100), 'a\\nb\\tc\\u001b');
  assert.equal(clientText('plain', 100), 'plain');
  for (const max of [32, 64, 100, 256]) {
    for (const input of ['x'.repeat(10_000), '\n'.repeat(10_000), '😀'.repeat(10_000), `${'a'.repeat(max - 1)}\u001b`]) {
      const out = clientText(input, max);
      assert.ok(out.length <= max, `${max}: ${out.length}`);
      assert.doesNotMatch(out, RAW_CONTROL);
      assert.doesNotMatch(out, /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/, 'no lone surrogate');
    }
  }
  assert.equal(clientText('😀\ud800', 100), '😀\\ud800');
  assert.equal(clientText(12, 100), '12');
});

test('queryText and other free text: the same secret-like redaction and fingerprint as arguments', () => {
  const query = `StormEvents | where Url has "https://x/y?sv=1&sig=${'A'.repeat(30)}"`;
  const asArgument = JSON.parse(summarizeArguments({ query }, [], fp)).query;
  const asText = redactText(query, 8192, fp);
  assert.match(asText, /^\[redacted secret-like len=\d+ fp=[0-9a-f]{16}\]$/);
  assert.equal(asText, asArgument, 'one policy: the same value redacts the same way in both fields');
  assert.equal(redactText('StormEvents | take 10', 8192, fp), 'StormEvents | take 10');
  assert.equal(redactText('Bearer abcdefghijklmnopqrstuvwxyz', 256, undefined), '[redacted secret-like len=33]');
});
