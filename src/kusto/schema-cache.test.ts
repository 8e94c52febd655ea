import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSchemaCache, unknownNameHints, type DatabaseSchema } from './schema-cache.ts';
import { scriptedGateway, table, testAppIdentity as app } from './scripted-gateway.test-support.ts';

const cluster = { name: 'help', url: 'https://help.kusto.windows.net' };

function schemaJson(version: [number, number], tables: Record<string, Array<[string, string]>>): string {
  return JSON.stringify({
    Databases: {
      Samples: {
        Name: 'Samples',
        MajorVersion: version[0],
        MinorVersion: version[1],
        Tables: Object.fromEntries(
          Object.entries(tables).map(([name, columns]) => [name, { Name: name, OrderedColumns: columns.map(([column, type]) => ({ Name: column, Type: type })) }]),
        ),
      },
    },
  });
}

test('the schema cache fetches once, trusts the TTL, then checks the version with if_later_than', async () => {
  let clock = 0;
  let answer = schemaJson([1, 0], { StormEvents: [['State', 'System.String']] });
  const gateway = scriptedGateway({ command: () => [table([['DatabaseSchema', 'string']], answer === '' ? [] : [[answer]])] });
  const cache = createSchemaCache({ gateway, ttlMs: 1000, now: () => clock, newRequestId: (p) => `id.${p}` });

  const first = await cache.get(app, cluster, 'Samples');
  assert.deepEqual(first.tables.get('StormEvents')?.columns, [{ name: 'State', type: 'string' }], '.NET type names map to KQL types');
  assert.equal(first.version, 'v1.0');
  await cache.get(app, cluster, 'samples');
  assert.equal(gateway.commands.length, 1, 'within the TTL (and case-insensitive database names) no new request');

  clock = 1500;
  answer = '';
  const unchanged = await cache.get(app, cluster, 'Samples');
  assert.equal(gateway.commands[1]?.command.text, `.show database ['Samples'] schema if_later_than "v1.0" as json`);
  assert.equal(unchanged, first, 'an empty answer keeps the cached schema');

  answer = schemaJson([1, 1], { StormEvents: [['State', 'System.String']], Fresh: [['Id', 'System.Int64']] });
  const refreshed = await cache.refresh(app, cluster, 'Samples');
  assert.equal(gateway.commands.length, 3, 'refresh checks at once, whatever the TTL');
  assert.deepEqual([...refreshed.tables.keys()], ['StormEvents', 'Fresh']);
  assert.equal(refreshed.version, 'v1.1');
});

test('concurrent lookups share one fetch, and a failed fetch is not cached', async () => {
  let calls = 0;
  let fail = true;
  const gateway = scriptedGateway({
    command: async () => {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 10));
      if (fail) throw new Error('cluster down');
      return [table([['DatabaseSchema', 'string']], [[schemaJson([2, 0], { T: [['A', 'System.Int64']] })]])];
    },
  });
  const cache = createSchemaCache({ gateway, ttlMs: 60_000, newRequestId: (p) => p });
  const results = await Promise.allSettled([cache.get(app, cluster, 'Samples'), cache.get(app, cluster, 'Samples'), cache.get(app, cluster, 'Samples')]);
  assert.equal(calls, 1);
  assert.ok(results.every((r) => r.status === 'rejected'));
  fail = false;
  const schema = await cache.get(app, cluster, 'Samples');
  assert.equal(calls, 2, 'the failure was not remembered');
  assert.equal(schema.tables.get('T')?.columns[0]?.type, 'long');
});

test('unknown-name hints: the table that has the column, a different case, close names', () => {
  const schema: DatabaseSchema = {
    database: 'Samples',
    tables: new Map([
      ['StormEvents', { name: 'StormEvents', columns: [{ name: 'State', type: 'string' }, { name: 'EventId', type: 'int' }] }],
      ['PopulationData', { name: 'PopulationData', columns: [{ name: 'State', type: 'string' }, { name: 'Population', type: 'long' }] }],
    ]),
  };
  assert.deepEqual(unknownNameHints(schema, 'Population'), ["'Population' is a column of table PopulationData: query that table, or join it."]);
  assert.deepEqual(unknownNameHints(schema, 'State'), ["'State' is a column of tables StormEvents, PopulationData: query one of them, or join it."]);
  assert.deepEqual(unknownNameHints(schema, 'eventid'), ['Names are case-sensitive: EventId.']);
  assert.deepEqual(unknownNameHints(schema, 'StormEvent'), ['Did you mean: StormEvents?']);
  assert.deepEqual(unknownNameHints(schema, 'Zzzzzzzzzz'), []);
});
