import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compactDatetime, renderHeader, renderRows } from './format.ts';
import { parseKustoJson, parseV2 } from './frames.ts';

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

test('longs beyond 2^53 survive parsing as exact strings', () => {
  const parsed = parseKustoJson('[{"FrameType":"DataTable","TableKind":"PrimaryResult","TableName":"PrimaryResult","Columns":[{"ColumnName":"Id","ColumnType":"long"},{"ColumnName":"R","ColumnType":"real"}],"Rows":[[9223372036854775807,1.5],[42,2]]}]');
  const { primary } = parseV2(parsed);
  assert.deepEqual(primary[0]?.rows, [
    ['9223372036854775807', 1.5],
    [42, 2],
  ]);
});

test('inline partial failures are separated from rows and reported', () => {
  const frames = [
    { FrameType: 'DataSetHeader', IsProgressive: false, Version: 'v2.0' },
    { FrameType: 'DataTable', TableId: 1, TableKind: 'PrimaryResult', TableName: 'PrimaryResult', Columns: [{ ColumnName: 'x', ColumnType: 'long' }], Rows: [[1], [2], { OneApiErrors: [{ error: { code: 'LimitsExceeded', '@message': 'Query result set has exceeded the internal record count limit 2 (E_QUERY_RESULT_SET_TOO_LARGE)' } }] }] },
    { FrameType: 'DataSetCompletion', HasErrors: true, Cancelled: false, OneApiErrors: [{ error: { code: 'LimitsExceeded', '@message': 'Query result set has exceeded the internal record count limit 2 (E_QUERY_RESULT_SET_TOO_LARGE)' } }] },
  ];
  const result = parseV2(frames);
  assert.deepEqual(result.primary[0]?.rows, [[1], [2]]);
  assert.equal(result.partialErrors.length, 1);
  assert.match(result.partialErrors[0]?.message ?? '', /E_QUERY_RESULT_SET_TOO_LARGE/);
});
