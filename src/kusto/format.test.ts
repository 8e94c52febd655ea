import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capText, cellLimit, compactDatetime, plainValue, renderHeader, renderRows } from './format.ts';

test('rows render as typed CSV with quoting only where needed', () => {
  const table = {
    name: 'PrimaryResult',
    columns: [
      { name: 'State', type: 'string' },
      { name: 'N', type: 'long' },
      { name: 'At', type: 'datetime' },
      { name: 'Bag', type: 'dynamic' },
      { name: 'Ok', type: 'bool' },
    ],
    rows: [
      ['TEXAS', 1, '2007-01-01T00:00:00.0000000Z', { a: 1 }, true],
      ['NEW YORK, NY', null, '2007-01-01T00:00:00.1200000Z', null, false],
      ['say "hi"', '9007199254740993', null, [1, 2], null],
      ['', 0, null, null, null],
    ],
  };
  assert.equal(renderHeader(table.columns), 'columns: State:string, N:long, At:datetime, Bag:dynamic, Ok:bool');
  assert.deepEqual(renderRows(table, 10, 10_000).lines, [
    'TEXAS,1,2007-01-01T00:00:00Z,"{""a"":1}",true',
    '"NEW YORK, NY",,2007-01-01T00:00:00.12Z,,false',
    '"say ""hi""",9007199254740993,,"[1,2]",',
    '"",0,,,',
  ]);
  const cut = renderRows(table, 10, 100);
  assert.equal(cut.shown, 2, 'the byte budget stops rendering');
  assert.equal(renderRows(table, 1, 10_000).shown, 1);
  assert.equal(renderRows(table, 10, 20).shown, 0, 'a first row over the budget is not shown either');
});

test('datetimes stay ISO 8601 but lose zero padding', () => {
  assert.equal(compactDatetime('2024-05-01T10:00:00.0000000Z'), '2024-05-01T10:00:00Z');
  assert.equal(compactDatetime('2024-05-01T10:00:00.1234567Z'), '2024-05-01T10:00:00.1234567Z');
});

test('long values are capped with a note of how much was cut, so one huge cell does not hide every row', () => {
  assert.deepEqual(capText('abcdef', 3), { text: 'abc…(3 chars cut)', cut: true });
  assert.deepEqual(capText('abc', 3), { text: 'abc', cut: false });
  assert.equal(cellLimit(65_536), 4096);
  assert.equal(cellLimit(800), 100);
  const huge = 'x'.repeat(1_000_000);
  const table = { name: 'PrimaryResult', columns: [{ name: 'Id', type: 'long' }, { name: 'Text', type: 'string' }], rows: [[1, huge], [2, 'short'], [3, huge]] };
  const rendered = renderRows(table, 10, 65_536, 4096);
  assert.equal(rendered.shown, 3, 'every row shows');
  assert.equal(rendered.cellsCut, 2);
  assert.match(rendered.lines[0] ?? '', /^1,x{4096}…\(995904 chars cut\)$/);
  assert.equal(renderRows(table, 10, 65_536).shown, 0, 'without the cap the first row alone is over the budget');
  assert.equal(plainValue(huge, 'string', 10), 'xxxxxxxxxx…(999990 chars cut)');
  assert.deepEqual(plainValue({ a: 1 }, 'dynamic', 100), { a: 1 });
  assert.match(String(plainValue({ a: huge }, 'dynamic', 10)), /^\{"a":"xxxx…\(\d{6} chars cut\)$/);
});
