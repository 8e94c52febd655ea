import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built Functions entry (package.json `main`) loads, and a bad setting stops it with a named error. */
const ENTRY = fileURLToPath(new URL('../../dist/functions.js', import.meta.url));
const packageMain = (await import('../../package.json', { with: { type: 'json' } })).default.main;

function load(env: Record<string, string>) {
  return spawnSync(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(ENTRY)})`], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
  });
}

test('package.json main points at the built Functions entry', () => {
  assert.equal(packageMain, 'dist/functions.js');
});

test('the entry registers the functions (outside the host, @azure/functions says it skips them)', () => {
  const result = load({});
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stderr + result.stdout, /register function "mcp"/);
  assert.match(result.stderr + result.stdout, /register function "health"/);
});

test('an invalid setting fails the entry with the setting named', () => {
  const result = load({ MCP_AUTH_MODE: 'open', KUSTO_CLUSTERS: 'x=http://insecure' });
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /MCP_AUTH_MODE must be one of entra, easyAuth, functionKey, none/);
  assert.match(result.stderr, /KUSTO_CLUSTERS cluster "x" must be a plain https:\/\/ URL/);
});
