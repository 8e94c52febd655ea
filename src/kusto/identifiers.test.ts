import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bracketName, InvalidIdentifierError, requestIdLiteral, schemaVersionLiteral, validateEntityName } from './identifiers.ts';

test('names are validated and always bracket-quoted', () => {
  assert.equal(bracketName('table', 'StormEvents'), "['StormEvents']");
  assert.equal(bracketName('database', 'My DB-1.v2'), "['My DB-1.v2']");
  for (const bad of ["T']; .drop table X //", 'T | take 1', 'a\nb', '', ' leading', 'trailing ', '[x]']) {
    assert.throws(() => validateEntityName('table', bad), InvalidIdentifierError, JSON.stringify(bad));
  }
});

test('versions and request ids have strict shapes', () => {
  assert.equal(schemaVersionLiteral('v12.3'), '"v12.3"');
  assert.throws(() => schemaVersionLiteral('v1.2" | .drop'));
  assert.equal(requestIdLiteral('app.kusto_query;0f0e'), '"app.kusto_query;0f0e"');
  assert.throws(() => requestIdLiteral('x" ; .drop'));
});
