import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig, SETTING_NAMES } from '../config.ts';

/** KUSTO_IDENTITY and the on-behalf-of fallbacks, as config.ts composes them. */

const TENANT = '00000000-0000-4000-8000-00000000aaaa';
const CLIENT = '00000000-0000-4000-8000-0000000000a1';
const entra = { MCP_AUTH_MODE: 'entra', ENTRA_TENANT_ID: TENANT, ENTRA_API_CLIENT_ID: CLIENT, MCP_PUBLIC_URL: 'https://app.example.com/mcp' };

const problems = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.join('\n');
    throw error;
  }
  return '';
};

test('the default is the managed identity, with no on-behalf-of set up', () => {
  const config = loadConfig({});
  assert.equal(config.downstream.kusto, 'managedIdentity');
  assert.equal(config.downstream.onBehalfOf, undefined);
  for (const name of ['KUSTO_IDENTITY', 'ENTRA_API_CLIENT_SECRET_NAME', 'ENTRA_API_CERTIFICATE_SECRET_NAME']) assert.ok(SETTING_NAMES.includes(name), name);
});

test('onBehalfOf in entra mode: secretless by default, the exchange in the API app of the tenant', () => {
  const config = loadConfig({ ...entra, KUSTO_IDENTITY: 'onBehalfOf' });
  assert.equal(config.downstream.kusto, 'onBehalfOf');
  assert.deepEqual(config.downstream.onBehalfOf, { authorityHost: 'https://login.microsoftonline.com', clientId: CLIENT, clientAuth: { kind: 'managedIdentity' } });
});

test('onBehalfOf needs a signed-in user and the API app', () => {
  assert.match(problems({ KUSTO_IDENTITY: 'onBehalfOf' }), /KUSTO_IDENTITY is onBehalfOf.*needs MCP_AUTH_MODE=entra/);
  assert.match(problems({ KUSTO_IDENTITY: 'onBehalfOf', MCP_AUTH_MODE: 'none' }), /not none, which identifies no user/);
  const missing = problems({ KUSTO_IDENTITY: 'onBehalfOf', MCP_AUTH_MODE: 'easyAuth', WEBSITE_SITE_NAME: 'app', WEBSITE_AUTH_ENABLED: 'True' });
  assert.match(missing, /ENTRA_TENANT_ID is required when KUSTO_IDENTITY is onBehalfOf/);
  assert.match(missing, /ENTRA_API_CLIENT_ID is required when KUSTO_IDENTITY is onBehalfOf/);
  assert.match(problems({ KUSTO_IDENTITY: 'delegated' }), /KUSTO_IDENTITY must be one of managedIdentity, onBehalfOf/);
});

test('fallbacks are Key Vault secret names, one at a time, with a vault, and only with on-behalf-of', () => {
  const vault = { KEY_VAULT_URL: 'https://kv.vault.azure.net' };
  const secret = loadConfig({ ...entra, ...vault, KUSTO_IDENTITY: 'onBehalfOf', ENTRA_API_CLIENT_SECRET_NAME: 'api-client-secret' });
  assert.deepEqual(secret.downstream.onBehalfOf?.clientAuth, { kind: 'secret', secretName: 'api-client-secret' });
  const certificate = loadConfig({ ...entra, ...vault, KUSTO_IDENTITY: 'onBehalfOf', ENTRA_API_CERTIFICATE_SECRET_NAME: 'api-certificate' });
  assert.deepEqual(certificate.downstream.onBehalfOf?.clientAuth, { kind: 'certificate', secretName: 'api-certificate' });

  assert.match(problems({ ...entra, KUSTO_IDENTITY: 'onBehalfOf', ENTRA_API_CLIENT_SECRET_NAME: 'api-client-secret' }), /KEY_VAULT_URL is required when ENTRA_API_CLIENT_SECRET_NAME is set/);
  assert.match(problems({ ...entra, ...vault, KUSTO_IDENTITY: 'onBehalfOf', ENTRA_API_CLIENT_SECRET_NAME: 'a', ENTRA_API_CERTIFICATE_SECRET_NAME: 'b' }), /are alternatives/);
  assert.match(problems({ ...entra, ...vault, ENTRA_API_CLIENT_SECRET_NAME: 'api-client-secret' }), /only applies when a backend uses on-behalf-of/);
  // A value pasted where the name goes is refused without being echoed.
  const pasted = problems({ ...entra, ...vault, KUSTO_IDENTITY: 'onBehalfOf', ENTRA_API_CLIENT_SECRET_NAME: 'Xy7~q.s3cr3t_value' });
  assert.match(pasted, /must be a Key Vault secret name/);
  assert.doesNotMatch(pasted, /s3cr3t/);
});
