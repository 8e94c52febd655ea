import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isTruncation, parseKustoJson, parseV1, parseV2, type QueryResult, type V1Result } from './frames.ts';
import { toRequestError } from './request-error.ts';

/**
 * The response parser against bodies recorded from the real service (the
 * test data of Microsoft's Kusto SDKs, in ../shared/fixtures/kusto; read
 * from there, never copied). Every file there must have an expectation.
 */
const FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/kusto/', import.meta.url));

type Expectation =
  | { kind: 'v2'; check: (result: QueryResult) => void }
  | { kind: 'v1'; check: (result: V1Result) => void }
  | { kind: 'text'; status: number; check: (message: string, code: string) => void };

const rowsOf = (result: QueryResult) => result.primary.map((table) => table.rows.length);

const EXPECTATIONS: Record<string, Expectation> = {
  'go-v2/aliases.json': {
    kind: 'v2',
    check: (r) => {
      assert.deepEqual(r.primary.map((t) => t.name), ['AllDataTypes'], 'a fragmented table (TableHeader/TableFragment/TableCompletion)');
      assert.deepEqual(r.primary[0]?.rows[0]?.[8], '9223372036854775807', 'a long beyond 2^53, exact');
      assert.deepEqual(r.partialErrors, []);
    },
  },
  'go-v2/partialError.json': {
    kind: 'v2',
    check: (r) => {
      assert.deepEqual(rowsOf(r), [1]);
      assert.ok(r.primary[0]?.errors?.some(isTruncation), 'truncation reported in TableCompletion');
      assert.equal(r.partialErrors.length, 1, 'the same error in DataSetCompletion is not repeated');
    },
  },
  'go-v2/twoTables.json': {
    kind: 'v2',
    check: (r) => {
      assert.deepEqual(rowsOf(r), [3, 3]);
      assert.deepEqual(r.primary[1]?.rows, [['a', 1], ['b', 2], ['c', 3]]);
      assert.deepEqual(r.primary[1]?.columns, [{ name: 'A', type: 'string' }, { name: 'B', type: 'int' }]);
      assert.equal(r.stats?.memoryPeakPerNodeBytes, 524384);
    },
  },
  'go-v2/validFrames.json': { kind: 'v2', check: (r) => assert.deepEqual(rowsOf(r), [2]) },
  'go-v2/error.txt': {
    kind: 'text',
    status: 400,
    check: (message) => assert.equal(message, "Bad request: Control commands (starting with a dot '.') do not support api_version=v2"),
  },
  'go-v1/error.txt': {
    kind: 'text',
    status: 400,
    check: (message, code) => {
      assert.equal(message, 'General_BadRequest: Request is invalid and cannot be executed.');
      assert.equal(code, 'General_BadRequest');
    },
  },
  'go-v1/success.json': { kind: 'v1', check: (r) => assert.deepEqual(r.tables.slice(0, 2).map((t) => t.rows.length), [3, 3]) },
  'go-v1/partialError.json': {
    kind: 'v1',
    check: (r) => {
      assert.deepEqual(r.tables[0]?.rows, [[1]], 'the error row is not a row');
      assert.equal(r.errors.length, 1);
      assert.ok(isTruncation(r.errors[0]!), r.errors[0]?.message);
    },
  },
  'go-v1/booleanInt.json': { kind: 'v1', check: (r) => assert.equal(r.tables[0]?.rows.length, 5) },
  'go-v1/dataTypeOnly.json': { kind: 'v1', check: (r) => assert.deepEqual(r.tables.map((t) => t.rows.length), [3, 3, 2, 2, 4]) },
  'python/adminthenquery.json': { kind: 'v1', check: (r) => assert.deepEqual(r.tables[0]?.rows, [['Kuskus', 'KustoLogs'], ['Kuskus', 'LiorTmp']]) },
  'python/versionshowcommandresult.json': { kind: 'v1', check: (r) => assert.equal(r.tables[0]?.columns[0]?.type, 'String', 'DataType when ColumnType is absent') },
  'python/alternative_order.json': { kind: 'v2', check: (r) => assert.deepEqual(rowsOf(r), [11]) },
  'python/dataframe.json': { kind: 'v2', check: (r) => assert.deepEqual(rowsOf(r), [8]) },
  'python/deft.json': { kind: 'v2', check: (r) => assert.deepEqual(r.primary.map((t) => [t.name, t.rows.length, t.columns.length]), [['Deft', 11, 19]]) },
  'python/deft_with_progressive_result.json': { kind: 'v2', check: (r) => assert.deepEqual(rowsOf(r), [11], 'a TableProgress frame is understood') },
  'python/dynamic.json': { kind: 'v2', check: (r) => assert.deepEqual(r.primary[0]?.rows[0]?.[5], { rowId: 2, arr: [0, 2] }) },
  'python/null_values.json': { kind: 'v2', check: (r) => assert.deepEqual(r.primary[0]?.rows, [Array(10).fill(null)]) },
  'python/pandas_bool.json': { kind: 'v2', check: (r) => assert.deepEqual(rowsOf(r), [3]) },
  'python/progressive_result.json': { kind: 'v2', check: (r) => assert.deepEqual(rowsOf(r), [5], 'progressive fragments are read, not dropped') },
  'python/query_partial_results_defer_is_false.json': {
    kind: 'v2',
    check: (r) => {
      assert.deepEqual(rowsOf(r), [5]);
      assert.equal(r.partialErrors[0]?.message, 'Query execution has exceeded the allowed limits (80DA0003): .', 'the older, empty message');
      assert.ok(isTruncation(r.partialErrors[0]!), 'detected by code, not by the message text');
    },
  },
  'python/query_partial_results_defer_is_true.json': {
    kind: 'v2',
    check: (r) => {
      assert.deepEqual(rowsOf(r), [5]);
      assert.equal(r.partialErrors.length, 1, 'truncation reported only in QueryCompletionInformation');
      assert.ok(isTruncation(r.partialErrors[0]!));
      assert.equal(r.partialErrors[0]?.statusCode, -2133196797);
    },
  },
  'python/zero_results.json': { kind: 'v2', check: (r) => assert.deepEqual(rowsOf(r), [0]) },
};

async function fixtureFiles(dir = FIXTURES): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? fixtureFiles(join(dir, e.name)) : [join(dir, e.name)])));
  return nested.flat().filter((file) => !file.endsWith('README.md'));
}

// The fixtures sit beside the checkout (../shared, the project's steering folder), not in it; a
// checkout without that folder cannot run this test, and says so instead of passing.
const fixturesMissing = existsSync(FIXTURES) ? false : `the recorded responses are not at ${FIXTURES}`;

test('every recorded service response in ../shared/fixtures/kusto replays through the product parser', { skip: fixturesMissing }, async () => {
  const files = (await fixtureFiles()).map((file) => relative(FIXTURES, file)).sort();
  assert.ok(files.length >= 20, `fixtures found in ${FIXTURES}: ${files.length}`);
  assert.deepEqual(files, Object.keys(EXPECTATIONS).sort(), 'each fixture has an expectation');
  for (const file of files) {
    const body = await readFile(join(FIXTURES, file), 'utf8');
    const expectation = EXPECTATIONS[file] as Expectation;
    if (expectation.kind === 'text') {
      const error = toRequestError({ message: 'Request failed with status code 400', response: { status: expectation.status, data: body, headers: {} } }, 'blab6');
      assert.equal(error.status, expectation.status, file);
      assert.equal(error.details.activityId, '00000000-0000-0000-0000-000000000000', `${file}: the activity id from the error details`);
      expectation.check(error.message, error.code);
    } else if (expectation.kind === 'v1') {
      expectation.check(parseV1(parseKustoJson(body)));
    } else {
      expectation.check(parseV2(parseKustoJson(body)));
    }
  }
});

const frame = (rows: unknown[]) => [
  { FrameType: 'DataSetHeader', IsProgressive: false, Version: 'v2.0' },
  { FrameType: 'DataTable', TableId: 1, TableKind: 'PrimaryResult', TableName: 'PrimaryResult', Columns: [{ ColumnName: 'x', ColumnType: 'long' }], Rows: rows },
  { FrameType: 'DataSetCompletion', HasErrors: false, Cancelled: false },
];

test('longs beyond 2^53 survive parsing as exact strings', () => {
  const parsed = parseKustoJson(JSON.stringify(frame([])).replace('"Rows":[]', '"Rows":[[9223372036854775807],[42]]'));
  assert.deepEqual(parseV2(parsed).primary[0]?.rows, [['9223372036854775807'], [42]]);
});

test('inline partial failures are separated from rows and reported once', () => {
  const error = { error: { code: 'LimitsExceeded', '@message': 'Query result set has exceeded the internal record count limit 2 (E_QUERY_RESULT_SET_TOO_LARGE)' } };
  const frames = frame([[1], [2], { OneApiErrors: [error] }]);
  (frames[2] as Record<string, unknown>).HasErrors = true;
  (frames[2] as Record<string, unknown>).OneApiErrors = [error];
  const result = parseV2(frames);
  assert.deepEqual(result.primary[0]?.rows, [[1], [2]]);
  assert.equal(result.partialErrors.length, 1);
  assert.ok(result.primary[0]?.errors?.some(isTruncation));
});

test('truncation is recognised by code, @type or status, not by wording', () => {
  assert.ok(isTruncation({ code: 'LimitsExceeded', message: 'whatever' }));
  assert.ok(isTruncation({ code: 'Other', type: 'Kusto.Data.Exceptions.KustoServicePartialQueryFailureLimitsExceededException', message: '' }));
  assert.ok(isTruncation({ code: 'QueryLimitsExceeded', message: '', statusCode: -2133196797 }));
  assert.ok(isTruncation({ code: 'Unknown', message: 'Query execution has exceeded the allowed limits (80DA0003): .' }));
  assert.ok(!isTruncation({ code: 'SEM0100', message: "Failed to resolve scalar expression named 'LimitsExceeded'" }));
});

test('a response that is not understood fails loudly instead of showing 0 rows', () => {
  assert.throws(() => parseV2([...frame([]).slice(0, 2), { FrameType: 'TableSurprise' }, frame([])[2]]), /frame type "TableSurprise" is not understood/);
  assert.throws(() => parseV2(frame([]).slice(0, 2)), /without a DataSetCompletion/);
  assert.throws(() => parseV2({ Tables: [] }), /not a v2 frame array/);
  assert.throws(() => parseV2([{ FrameType: 'TableFragment', TableId: 9, Rows: [] }]), /unknown table 9/);
});

test('progressive DataReplace fragments replace the rows sent so far', () => {
  const result = parseV2([
    { FrameType: 'DataSetHeader', IsProgressive: true, Version: 'v2.0' },
    { FrameType: 'TableHeader', TableId: 1, TableKind: 'PrimaryResult', TableName: 'PrimaryResult', Columns: [{ ColumnName: 'x', ColumnType: 'long' }] },
    { FrameType: 'TableFragment', TableFragmentType: 'DataAppend', TableId: 1, Rows: [[1]] },
    { FrameType: 'TableFragment', TableFragmentType: 'DataReplace', TableId: 1, Rows: [[7], [8]] },
    { FrameType: 'TableCompletion', TableId: 1, RowCount: 2 },
    { FrameType: 'DataSetCompletion', HasErrors: false, Cancelled: false },
  ]);
  assert.deepEqual(result.primary[0]?.rows, [[7], [8]]);
});
