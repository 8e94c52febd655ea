import { test } from 'node:test';
import assert from 'node:assert/strict';
import { budgetOverrides, countQuery, isControlCommand, splitStatements } from './statements.ts';

test('valid KQL that regex guards reject is accepted: let, comments, strings mentioning commands', () => {
  const queries = [
    'let since = ago(1d);\nStormEvents | where StartTime > since | take 10',
    '// .drop table StormEvents\nStormEvents | count',
    "StormEvents | where EventNarrative has '.drop table' | take 1",
    'StormEvents | where Source == "x; .set-or-append T <| print 1" | count',
    "print @'c:\\temp\\.alter'",
    'let f = (n:long) { let m = n * 2; m }; print f(2)',
    "print h'secret; .drop'",
    'print ```multi\nline; .drop```',
  ];
  for (const query of queries) {
    const statements = splitStatements(query);
    assert.ok(statements.length > 0, query);
    assert.ok(!statements.some(isControlCommand), query);
  }
  assert.equal(splitStatements('let f = (n:long) { let m = n * 2; m }; print f(2)').length, 2);
});

test('control commands are found in any statement, after leading comments or whitespace', () => {
  for (const query of ['.drop table T', '  // cleanup\n  .set-or-append T <| print 1', 'print 1; .drop table T', '\n\n.show tables']) {
    assert.ok(splitStatements(query).some(isControlCommand), query);
  }
});

test('set statements that lift budgets are detected; harmless ones are not', () => {
  assert.deepEqual(budgetOverrides(splitStatements('set notruncation; T | take 1')), ['notruncation']);
  assert.deepEqual(budgetOverrides(splitStatements('set truncationmaxrecords = 1000000;\nset query_now = datetime(2024-01-01);\nT')), ['truncationmaxrecords']);
  assert.deepEqual(budgetOverrides(splitStatements("T | where Message has 'set notruncation'")), []);
});

test('countQuery wraps the last statement and keeps the others', () => {
  assert.equal(countQuery(splitStatements('let x = 1;\nT | where A > x | render timechart')), 'let x = 1;\n(T | where A > x )\n| count');
  assert.equal(countQuery(splitStatements('let x = 1;')), undefined);
  assert.equal(splitStatements('').length, 0);
  assert.equal(splitStatements('  // only a comment ').length, 0);
});
