import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseClusters, resolveCluster } from './clusters.ts';

const { clusters } = parseClusters('help=https://help.kusto.windows.net/Samples, logs=https://Logs.westeurope.kusto.windows.net');

test('clusters parse with their default databases', () => {
  assert.deepEqual(clusters, [
    { name: 'help', url: 'https://help.kusto.windows.net', defaultDatabase: 'Samples' },
    { name: 'logs', url: 'https://logs.westeurope.kusto.windows.net' },
  ]);
});

test('bad entries are reported, not dropped silently', () => {
  const { problems } = parseClusters('x=http://a.kusto.windows.net, =https://b, y=https://u:p@c.net, x2=https://d.net?q=1, help=https://a, help=https://b');
  assert.equal(problems.length, 5);
  assert.match(problems.join('\n'), /plain https/);
  assert.match(problems.join('\n'), /listed twice/);
});

test('only configured clusters resolve, by name or exact URL (SSRF guard)', () => {
  assert.equal(resolveCluster(clusters, undefined, undefined).ok && resolveCluster(clusters, undefined, undefined).ok, true);
  const byUrl = resolveCluster(clusters, undefined, 'https://LOGS.westeurope.kusto.windows.net/');
  assert.ok(byUrl.ok && byUrl.cluster.name === 'logs');
  const byDefault = resolveCluster(clusters, 'logs', undefined);
  assert.ok(byDefault.ok && byDefault.cluster.name === 'logs');
  for (const refused of ['https://evil.example', 'https://help.kusto.windows.net.evil.example', 'http://help.kusto.windows.net', '169.254.169.254', 'other']) {
    const result = resolveCluster(clusters, undefined, refused);
    assert.ok(!result.ok, refused);
    assert.match(result.ok ? '' : result.message, /not in this server's allow-list\. Allowed clusters: help, logs/);
  }
});
