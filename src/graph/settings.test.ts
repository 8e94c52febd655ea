import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import type { SecretProvider } from '../azure/secrets.ts';
import { secretCursorKeys, cursorKey } from './cursor-keys.ts';
import { checkGraphSettings, graphSettingsFrom, graphSettingsShape } from './settings.ts';

const schema = z.object({ ...graphSettingsShape, KEY_VAULT_URL: z.string().optional() }).superRefine((settings, ctx) => checkGraphSettings(settings, ctx));
const problems = (env: Record<string, string>) => {
  const parsed = schema.safeParse(env);
  return parsed.success ? '' : parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('\n');
};

test('defaults: the public cloud, bounded retries, the breaker on, a one-hour cursor', () => {
  const settings = graphSettingsFrom(schema.parse({}));
  assert.equal(settings.endpoint.root, 'https://graph.microsoft.com/v1.0');
  assert.equal(settings.endpoint.scope, 'https://graph.microsoft.com/.default');
  assert.deepEqual(settings.retry, { maxRetries: 3, maxTotalWaitSeconds: 60, baseDelaySeconds: 1 });
  assert.deepEqual(settings.circuit, { failureThreshold: 5, cooldownMs: 30_000 });
  assert.deepEqual(settings.cursor, { keySecretName: undefined, previousKeySecretName: undefined, ttlMs: 3_600_000 });
  assert.equal(settings.requestTimeoutMs, 30_000);
});

test('the emulator and sovereign clouds are endpoints; anything but an https host is refused', () => {
  const emulator = graphSettingsFrom(schema.parse({ GRAPH_ENDPOINT: 'https://graph.localhost:8443/' })).endpoint;
  assert.deepEqual([emulator.origin, emulator.hostname, emulator.scope], ['https://graph.localhost:8443', 'graph.localhost', 'https://graph.localhost:8443/.default']);
  assert.equal(graphSettingsFrom(schema.parse({ GRAPH_ENDPOINT: 'https://graph.microsoft.us' })).endpoint.scope, 'https://graph.microsoft.us/.default');
  assert.match(problems({ GRAPH_ENDPOINT: 'http://graph.microsoft.com' }), /GRAPH_ENDPOINT must use https/);
  assert.match(problems({ GRAPH_ENDPOINT: 'https://graph.microsoft.com/v1.0' }), /GRAPH_ENDPOINT must be the host only/);
  assert.match(problems({ GRAPH_ENDPOINT: 'graph' }), /GRAPH_ENDPOINT "graph" is not a URL/);
});

test('numbers are checked against their ranges', () => {
  assert.match(problems({ GRAPH_MAX_RETRY_WAIT_SECONDS: '300' }), /GRAPH_MAX_RETRY_WAIT_SECONDS must be a whole number from 0 to 180/);
  assert.match(problems({ GRAPH_MAX_RETRIES: '2.5' }), /GRAPH_MAX_RETRIES must be a whole number/);
  assert.equal(graphSettingsFrom(schema.parse({ GRAPH_CIRCUIT_FAILURES: '0' })).circuit.failureThreshold, 0);
});

test('cursor key secrets are names in Key Vault; the previous key needs the current one', () => {
  assert.match(problems({ GRAPH_CURSOR_KEY_SECRET_NAME: 'cursor-key' }), /KEY_VAULT_URL is required when GRAPH_CURSOR_KEY_SECRET_NAME is set/);
  assert.match(problems({ GRAPH_CURSOR_KEY_SECRET_NAME: 'not a name!', KEY_VAULT_URL: 'https://v.vault.azure.net' }), /must be a Key Vault secret name/);
  assert.match(problems({ GRAPH_CURSOR_PREVIOUS_KEY_SECRET_NAME: 'old', KEY_VAULT_URL: 'https://v' }), /needs GRAPH_CURSOR_KEY_SECRET_NAME/);
  assert.equal(problems({ GRAPH_CURSOR_KEY_SECRET_NAME: 'new', GRAPH_CURSOR_PREVIOUS_KEY_SECRET_NAME: 'old', KEY_VAULT_URL: 'https://v' }), '');
});

test('the Key Vault key source reads current and previous; an unreadable previous key does not stop signing', async () => {
  const values: Record<string, string> = { new: 'n'.repeat(40), old: 'o'.repeat(40) };
  const secrets: SecretProvider = {
    get: async (name) => values[name] ?? Promise.reject(new Error(`no ${name}`)),
    use: async (name, use) => use(values[name] as string),
  };
  const keys = await secretCursorKeys(secrets, { current: 'new', previous: 'old' })();
  assert.equal(keys.current.id, cursorKey(values.new as string).id);
  assert.equal(keys.previous?.id, cursorKey(values.old as string).id);
  assert.equal((await secretCursorKeys(secrets, { current: 'new', previous: 'gone' })()).previous, undefined);
  await assert.rejects(secretCursorKeys(secrets, { current: 'gone' })(), /no gone/);
});
