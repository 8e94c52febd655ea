import { test } from 'node:test';
import assert from 'node:assert/strict';
import { directorySearch, odataAnd, odataDateTime, odataEq, ODataInputError, odataQuery, odataStartsWith, odataString, searchPhrase } from './odata.ts';

test('filter string literals double single quotes, and nothing else changes', () => {
  assert.equal(odataString("o'brien@contoso.com"), "'o''brien@contoso.com'");
  assert.equal(odataString("''"), "''''''");
  assert.equal(odataEq('mail', "x' or 1 eq 1 or mail eq 'y"), "mail eq 'x'' or 1 eq 1 or mail eq ''y'");
  assert.equal(odataStartsWith('displayName', 'Ann'), "startsWith(displayName,'Ann')");
});

test('property names are checked, so no expression can be passed as one', () => {
  assert.equal(odataEq('from/emailAddress/address', 'a@b.c'), "from/emailAddress/address eq 'a@b.c'");
  for (const bad of ['mail eq 1 or x', "mail'", '', 'a/b/c/d/e/f/g', '1abc']) assert.throws(() => odataEq(bad, 'v'), ODataInputError, bad);
});

test('conditions joined with and stay each in its own parentheses', () => {
  assert.equal(odataAnd('a eq 1 or b eq 2', 'c eq 3'), '(a eq 1 or b eq 2) and (c eq 3)');
});

test('control characters and lone surrogates are refused', () => {
  assert.throws(() => odataString('a\u0000b'), ODataInputError);
  assert.throws(() => odataString('line\nbreak'), ODataInputError);
  assert.throws(() => searchPhrase('\ud800'), ODataInputError);
  assert.equal(odataString('tab\tok 😀'), "'tab\tok 😀'");
});

test('search phrases are one double-quoted phrase with quotes and backslashes escaped', () => {
  assert.equal(searchPhrase('budget OR from:ann'), '"budget OR from:ann"');
  assert.equal(searchPhrase('say "hi" \\o/'), '"say \\"hi\\" \\\\o/"');
  assert.equal(directorySearch('displayName', 'ann" OR "mail:x'), '"displayName:ann\\" OR \\"mail:x"');
});

test('the query string encodes every value, so & # and + in user text cannot add parameters', () => {
  const filter = odataEq('displayName', 'R&D #1 + $top=999');
  const query = odataQuery({ $filter: filter, $top: 25, $select: ['id', 'displayName'], $count: true, $search: undefined });
  assert.equal(query.includes('&$top=999'), false);
  const parsed = new URL(`https://graph.microsoft.com/v1.0/users${query}`).searchParams;
  assert.equal(parsed.get('$filter'), filter);
  assert.equal(parsed.get('$top'), '25');
  assert.equal(parsed.get('$select'), 'id,displayName');
  assert.equal(parsed.get('$count'), 'true');
  assert.equal(parsed.has('$search'), false);
  assert.match(query, /%20/);
  assert.throws(() => odataQuery({ $select: ['id,mail'] }), ODataInputError);
  assert.throws(() => odataQuery({ 'a&b': 'x' }), ODataInputError);
});

test('date-times are ISO literals; nonsense is refused', () => {
  assert.equal(odataDateTime('2026-03-01T10:00:00+01:00'), '2026-03-01T09:00:00.000Z');
  assert.throws(() => odataDateTime('yesterday'), ODataInputError);
});
