import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rankSchema, tokenize } from './rank.ts';
import type { DatabaseSchema } from './schema-cache.ts';

const schema: DatabaseSchema = {
  database: 'Db',
  tables: new Map(
    [
      { name: 'StormEvents', docString: 'US storm events with damage and casualties', columns: [{ name: 'StartTime', type: 'datetime' }, { name: 'State', type: 'string' }, { name: 'DamageProperty', type: 'long', docString: 'Property damage in USD' }, { name: 'DeathsDirect', type: 'int' }] },
      { name: 'Requests', docString: 'HTTP requests served by the app', columns: [{ name: 'Timestamp', type: 'datetime' }, { name: 'ResultCode', type: 'string' }, { name: 'DurationMs', type: 'real', docString: 'Server duration in milliseconds' }] },
      { name: 'Heartbeat', columns: [{ name: 'Computer', type: 'string' }, { name: 'TimeGenerated', type: 'datetime' }] },
    ].map((t) => [t.name, t]),
  ),
};

test('tokenize splits camel case and snake case and stems', () => {
  assert.deepEqual(tokenize('DamageProperty by_state in StormEvents'), ['damage', 'property', 'state', 'storm', 'event']);
});

test('the tables that match the question come first, with their columns', () => {
  const damage = rankSchema(schema, 'Which states had the most property damage from storms?', 2);
  assert.equal(damage[0]?.name, 'StormEvents');
  assert.ok(damage[0]?.columns.some((c) => c.name === 'DamageProperty' && c.score > 0));
  const slow = rankSchema(schema, 'slowest requests by result code and duration', 1);
  assert.equal(slow[0]?.name, 'Requests');
  assert.deepEqual(rankSchema(schema, 'zebra migration', 5), []);
});
