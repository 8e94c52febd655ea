import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bindParameters, inferType } from './parameters.ts';

test('types are inferred from JSON values', () => {
  assert.equal(inferType('TEXAS'), 'string');
  assert.equal(inferType(10), 'long');
  assert.equal(inferType(2.5), 'real');
  assert.equal(inferType(true), 'bool');
  assert.equal(inferType('2007-06-01T00:00:00Z'), 'datetime');
  assert.equal(inferType('2007-06-01'), 'datetime');
  assert.equal(inferType({ type: 'timespan', value: '1h' }), 'timespan');
});

test('parameters become a declaration and request Parameters, never query text', () => {
  const bound = bindParameters({ state: "TEXAS' | take 1000000 //", n: 10, ratio: 0.5, ok: false, since: '2007-06-01T00:00:00Z', window: { type: 'timespan', value: '1h' } });
  assert.equal(bound?.declaration, 'declare query_parameters(state:string, n:long, ratio:real, ok:bool, since:datetime, window:timespan);');
  assert.deepEqual(bound?.values, {
    state: "TEXAS' | take 1000000 //",
    n: 10,
    ratio: 'real(0.5)',
    ok: 'bool(false)',
    since: 'datetime(2007-06-01T00:00:00Z)',
    window: 'timespan(1h)',
  });
  assert.equal(bindParameters({}), undefined);
});

test('a value that does not fit its declared type is refused with its name', () => {
  assert.throws(() => bindParameters({ window: { type: 'timespan', value: '1h); print 1 //' } }), /Parameter window: .* not a timespan/);
  assert.throws(() => bindParameters({ id: { type: 'guid', value: 'nope' } }), /Parameter id/);
  assert.throws(() => bindParameters({ when: { type: 'datetime', value: 'yesterday' } }), /Parameter when/);
});
