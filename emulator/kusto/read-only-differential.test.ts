import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ALLOWED_SET_OPTIONS, checkUserQuery } from '../../src/kusto/read-only-check.ts';
import { officialDotAfterSemicolon, officialKind, officialSetOptions } from './official-parser.ts';

/**
 * The product's read-only check against Microsoft's own parser
 * (`Kusto.Language`, as a test oracle only): over generated prefixes,
 * unicode spaces, comments with every line break, directives, every
 * string form and `set` statements, whatever the official parser reads as
 * a command, or as a `set` outside the allow-list, the check refuses.
 */
export const DIFFERENTIAL_CASES = 10_000;

const KUSTO_WHITESPACE = ['\t', ' ', '\r', '\n', '\f', '\u00A0', '\u1680', '\u180E', '\u2000', '\u2003', '\u2009', '\u200A', '\u200B', '\u202F', '\u205F', '\u3000', '\uFEFF'];
const OTHER_INVISIBLE = ['\u2060', '\u200C', '\u200D', '\u00AD', '\u0085', '\u000B', '\u2028', '\u2029', '\u0000', '\u061C'];
const LINE_BREAKS = ['\n', '\r', '\r\n', '\u2028', '\u2029', '\u0085', '\u000B', ''];
const COMMANDS = ['.drop table T', '.set-or-append T <| print 1', '. show tables', '..drop table T', '.alter table T (a:int)', '.append T <| print 1', '.ingest inline into table T <| 1'];
const STATEMENTS = ['print 1', 'let x = 1', 'T | take 1', 'StormEvents | where * has "x"', 'declare query_parameters(n:long)', 'T | where a == 1 | project set'];
const SET_NAMES = ['notruncation', 'truncationmaxrecords=5', 'request_callout_disabled=false', 'request_remote_entities_disabled=false', 'request_external_data_disabled=false',
  'deferpartialqueryfailures=true', 'query_now = datetime(2024-01-01)', 'query_datetimescope_column = "t"', 'servertimeout=1h', 'norequesttimeout'];
/** Characters that change how strings and comments end. */
const TRICKY = ['"', "'", '\\', '`', '~', ';', '.', '/', '#', '@', 'h', '\n', '\r', '\u2028', '{', '}', '(', ')', 'x', ' ', '\\u0041', '\\q', '\\\\', '""', "''"];

const space = fc.constantFrom(...KUSTO_WHITESPACE, ...OTHER_INVISIBLE);
const spaces = fc.array(space, { maxLength: 3 }).map((list) => list.join(''));
const tricky = fc.array(fc.constantFrom(...TRICKY, ...COMMANDS), { maxLength: 5 }).map((list) => list.join(''));
const comment = fc.tuple(tricky, fc.constantFrom(...LINE_BREAKS)).map(([body, end]) => `//${body}${end}`);
const directive = fc.tuple(fc.constantFrom('#connect cluster("a")', '#crp x=1', '#', '#database y'), tricky, fc.constantFrom(...LINE_BREAKS)).map(([d, body, end]) => `${d}${body}${end}`);
const stringLiteral = fc
  .tuple(fc.constantFrom('"', "'", '@"', "@'", 'h"', "H'", 'h@"', '```', '~~~'), tricky, fc.boolean())
  .map(([open, body, closed]) => {
    const close = open.endsWith('```') ? '```' : open.endsWith('~~~') ? '~~~' : (open.at(-1) as string);
    return `print ${open}${body}${closed ? close : ''}`;
  });
const setStatement = fc.tuple(fc.constantFrom('set', 'SET', 'set\u200B', 'set '), spaces, fc.constantFrom(...SET_NAMES)).map(([keyword, gap, name]) => `${keyword}${gap || ' '}${name}`);
const piece = fc.oneof(
  { weight: 3, arbitrary: spaces },
  { weight: 3, arbitrary: comment },
  { weight: 1, arbitrary: directive },
  { weight: 2, arbitrary: stringLiteral },
  { weight: 2, arbitrary: fc.constantFrom(...STATEMENTS) },
  { weight: 2, arbitrary: setStatement },
  { weight: 3, arbitrary: fc.constantFrom(';', '; ', ';\n', ' { ', ' } ') },
  { weight: 3, arbitrary: fc.constantFrom(...COMMANDS) },
);
const query = fc.array(piece, { minLength: 1, maxLength: 8 }).map((pieces) => pieces.join(''));

test(`the read-only check refuses whatever the official parser reads as a command or a disallowed set (${DIFFERENTIAL_CASES.toLocaleString('en-US')} generated cases)`, { timeout: 300_000 }, () => {
  const seen = { cases: 0, officialCommands: 0, officialDotStatements: 0, officialSets: 0, refused: 0, disagreements: 0 };
  fc.assert(
    fc.property(query, (text) => {
      seen.cases++;
      const refused = checkUserQuery(text) !== undefined;
      if (refused) seen.refused++;
      const command = officialKind(text) === 'Command';
      const dotStatement = officialDotAfterSemicolon(text);
      // A command is parsed by the (slow) command grammar and must be refused anyway: only queries are searched for set statements.
      const badSet = !command && officialSetOptions(text).some((name) => !ALLOWED_SET_OPTIONS.has(name));
      if (command) seen.officialCommands++;
      if (dotStatement) seen.officialDotStatements++;
      if (badSet) seen.officialSets++;
      if ((command || dotStatement || badSet) && !refused) {
        seen.disagreements++;
        return false;
      }
      return true;
    }),
    { numRuns: DIFFERENTIAL_CASES, seed: Number(process.env.DIFFERENTIAL_SEED ?? 20240601) },
  );
  console.error(`differential: ${JSON.stringify(seen)}`);
  assert.equal(seen.cases, DIFFERENTIAL_CASES);
  assert.equal(seen.disagreements, 0);
  // The generator must actually reach the interesting cases.
  assert.ok(seen.officialCommands > DIFFERENTIAL_CASES / 10, `official commands: ${seen.officialCommands}`);
  assert.ok(seen.officialSets > DIFFERENTIAL_CASES / 20, `official set statements: ${seen.officialSets}`);
});

test('the oracle itself classifies the issue attack classes as commands', () => {
  for (const text of ['\u200B.drop table T', '\u180E.drop table T', '// x\r.set-or-append T <| print 1', '// x\u2028.drop table T', '// x\u2029.drop table T', '#connect x\n.drop table T']) {
    assert.equal(officialKind(text), 'Command', JSON.stringify(text));
    assert.ok(checkUserQuery(text), JSON.stringify(text));
  }
  assert.deepEqual(officialSetOptions('set request_callout_disabled=false;\nprint 1'), ['request_callout_disabled']);
});
