import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkUserQuery } from './read-only-check.ts';
import { countQuery, isControlCommand, isTabular, splitStatements } from './statements.ts';

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
    'print ~~~multi\nline;\n.drop table T~~~',
    'print @"say ""hi""; .drop"',
    'StormEvents | where * has "x"',
    'set query_now = datetime(2024-01-01);\nprint now()',
    'print "tab\\t and \\u2028 escaped"',
  ];
  for (const query of queries) {
    const statements = splitStatements(query);
    assert.ok(statements.length > 0, query);
    assert.ok(!statements.some(isControlCommand), query);
    assert.equal(checkUserQuery(query), undefined, query);
  }
  assert.equal(splitStatements('let f = (n:long) { let m = n * 2; m }; print f(2)').length, 2);
});

test('control commands are found in any statement, after leading comments or whitespace', () => {
  for (const query of ['.drop table T', '  // cleanup\n  .set-or-append T <| print 1', 'print 1; .drop table T', '\n\n.show tables', '. drop table T', '..drop table T']) {
    assert.ok(checkUserQuery(query)?.reason.includes('management command'), query);
  }
  assert.ok(splitStatements('print 1; .drop table T').some(isControlCommand));
});

test("Kusto's whitespace and line breaks are the scanner's: unicode spaces, CR and U+2028 end comments", () => {
  const attacks = {
    'zero-width space': '\u200B.drop table T',
    'Mongolian vowel separator': '\u180E.drop table T',
    'byte order mark': '\uFEFF.drop table T',
    'no-break space': '\u00A0.drop table T',
    'ideographic space': '\u3000.drop table T',
    'word joiner (not Kusto whitespace, still skipped)': '\u2060.drop table T',
    'comment ended by CR': '// x\r.set-or-append T <| print 1',
    'comment ended by U+2028': '// x\u2028.drop table T',
    'comment ended by U+2029': '// x\u2029.drop table T',
    'after a statement and U+2028': 'print 1;\u2028.drop table T',
  };
  for (const [name, query] of Object.entries(attacks)) {
    assert.match(checkUserQuery(query)?.reason ?? '', /starts a management command/, name);
  }
  assert.equal(checkUserQuery('StormEvents\u00A0| take\u00A01'), undefined, 'a no-break space is whitespace, not a problem');
});

test('#directive lines are refused, before a command or not', () => {
  assert.match(checkUserQuery('#connect cluster("x").database("y")\n.drop table T')?.reason ?? '', /client directive/);
  assert.match(checkUserQuery('#crp request_readonly=false\nStormEvents | take 1')?.reason ?? '', /client directive/);
  assert.equal(checkUserQuery('print "#not a directive"'), undefined);
});

test('set statements outside the allow-list are refused, naming the statement', () => {
  for (const query of [
    'set notruncation; T | take 1',
    'set request_callout_disabled=false;\nprint 1',
    'set request_remote_entities_disabled=false; cluster("x").database("y").T',
    'set request_external_data_disabled = false; print 1',
    'set deferpartialqueryfailures=true; T',
    'set\u200Bnotruncation; T',
    '// c\rset truncationmaxrecords = 1000000;\nT',
    'let x = 1; set notruncation; T',
    'let f = () { set notruncation; T }; f()',
    'SET notruncation; T',
  ]) {
    const refusal = checkUserQuery(query);
    assert.ok(refusal, query);
    assert.match(refusal.reason, /^Refused: `(set|SET)/, query);
    assert.match(refusal.reason, /Allowed set statements: query_now/);
  }
  assert.match(checkUserQuery('set request_callout_disabled=false;\nprint 1')?.reason ?? '', /`set request_callout_disabled=false`/);
  assert.equal(checkUserQuery("T | where Message has 'set notruncation'"), undefined);
  assert.equal(checkUserQuery("T | project ['set'] = 1"), undefined, 'a column named set');
  assert.equal(checkUserQuery('print set = 1'), undefined, 'a column named set');
  assert.ok(checkUserQuery('T | project set notruncation'), 'set after a pipe, as the official parser recovers');
});

test('text another lexer could split differently is refused: unterminated strings, invalid escapes, ambiguous breaks', () => {
  for (const [query, why] of [
    ['print "abc', /not closed/],
    ['print "a\\q"; .drop table T"', /invalid escape/],
    ["print 'line\nnext'", /not closed/],
    ['print ```never closed', /not closed/],
    ['// note\u0085.drop table T', /line break/],
    ['print "a\u2028b"', /separator/],
  ] as const) {
    assert.match(checkUserQuery(query)?.reason ?? '', why, JSON.stringify(query));
  }
});

test('statements are tabular unless they bind or configure', () => {
  const statements = splitStatements('declare query_parameters(n:long);\nlet x = 1;\nset query_now = datetime(2024-01-01);\nT | take n;\nprint x');
  assert.deepEqual(statements.map((s) => [s.keyword, isTabular(s)]), [['declare', false], ['let', false], ['set', false], ['t', true], ['print', true]]);
});

test('countQuery counts one statement with the bindings before it, never another result statement', () => {
  const text = 'let x = 1;\nStormEvents | take 2;\nStormEvents | where A > x | render timechart';
  const statements = splitStatements(text);
  assert.equal(countQuery(statements, 2, text), 'let x = 1;\n(StormEvents | where A > x)\n| count');
  assert.equal(countQuery(statements, 1, text), 'let x = 1;\n(StormEvents | take 2)\n| count');
  assert.equal(countQuery(statements, 0, text), undefined, 'a let is not counted');
  const forked = 'T | fork (take 1) (take 2)';
  assert.equal(countQuery(splitStatements(forked), 0, forked), undefined, 'several tables from one statement');
  const commented = 'T // where x\n| where y == "| render"';
  assert.equal(countQuery(splitStatements(commented), 0, commented), `(T${' '.repeat(11)}\n| where y == "| render")\n| count`, 'the comment is blanked, the string kept');
  assert.equal(splitStatements('').length, 0);
  assert.equal(splitStatements('  // only a comment ').length, 0);
});
