import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig, loadLocalHostSettings } from './config.ts';

const problems = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems.join('\n');
  }
  assert.fail('expected a ConfigError');
};

test('defaults need no settings at all', () => {
  const config = loadConfig({});
  assert.equal(config.authMode, 'functionKey');
  assert.equal(config.readOnly, true);
  assert.equal(config.maxBodyBytes, 1_048_576);
  assert.deepEqual(config.allowedOrigins, []);
  assert.equal(config.keyVaultUrl, undefined);
  assert.equal(config.hasManagedIdentityEndpoint, false);
});

test('settings are parsed and normalized', () => {
  const config = loadConfig({
    MCP_ALLOWED_ORIGINS: 'https://Portal.Example.com/, https://b.example.com',
    MCP_MAX_BODY_BYTES: '2048',
    MCP_READ_ONLY: 'false',
    KEY_VAULT_URL: 'https://kv.vault.azure.net/',
    AUDIT_FINGERPRINT_SECRET_NAME: 'audit-key',
    AZURE_CLIENT_ID: '11111111-2222-3333-4444-555555555555',
    IDENTITY_ENDPOINT: 'http://localhost:8081/msi/token',
  });
  assert.deepEqual(config.allowedOrigins, ['https://portal.example.com', 'https://b.example.com']);
  assert.equal(config.maxBodyBytes, 2048);
  assert.equal(config.readOnly, false);
  assert.equal(config.keyVaultUrl, 'https://kv.vault.azure.net');
  assert.equal(config.hasManagedIdentityEndpoint, true);
});

test('every invalid setting is named in one error', () => {
  const text = problems({ MCP_AUTH_MODE: 'open', MCP_MAX_BODY_BYTES: '-1', KEY_VAULT_URL: 'http://kv', AZURE_CLIENT_ID: 'me' });
  assert.match(text, /MCP_AUTH_MODE must be one of entra, easyAuth, functionKey, none/);
  assert.match(text, /MCP_MAX_BODY_BYTES must be a whole number/);
  assert.match(text, /KEY_VAULT_URL must be an https:\/\/ URL/);
  assert.match(text, /AZURE_CLIENT_ID must be the client id/);
});

test('an unresolved Key Vault reference fails start-up with what to do', () => {
  assert.match(
    problems({ KEY_VAULT_URL: '@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/x/)' }),
    /KEY_VAULT_URL is an unresolved Key Vault reference; grant the app identity "Key Vault Secrets User"/,
  );
});

test('a fingerprint secret needs a vault; a wildcard origin is refused; bad connection strings are caught', () => {
  assert.match(problems({ AUDIT_FINGERPRINT_SECRET_NAME: 'k' }), /KEY_VAULT_URL is required/);
  assert.match(problems({ MCP_ALLOWED_ORIGINS: '*' }), /exact origins/);
  assert.match(problems({ APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=ABC' }), /lower-case GUID/);
});

test('easyAuth on an App Service without authentication enabled is refused', () => {
  assert.match(problems({ MCP_AUTH_MODE: 'easyAuth', WEBSITE_SITE_NAME: 'app' }), /WEBSITE_AUTH_ENABLED/);
  assert.equal(loadConfig({ MCP_AUTH_MODE: 'easyAuth', WEBSITE_SITE_NAME: 'app', WEBSITE_AUTH_ENABLED: 'True' }).authMode, 'easyAuth');
});

test('the shutdown deadline defaults to 8 s, inside a 10 s kill grace, and is bounded', () => {
  assert.equal(loadConfig({}).shutdownMs, 8000);
  assert.equal(loadConfig({ MCP_SHUTDOWN_SECONDS: '3' }).shutdownMs, 3000);
  for (const value of ['0', '61', '2.5', 'soon']) assert.match(problems({ MCP_SHUTDOWN_SECONDS: value }), /MCP_SHUTDOWN_SECONDS must be a whole number from 1 to 60/, value);
});

test('local host settings default to loopback:7071', () => {
  assert.deepEqual(loadLocalHostSettings({}), { port: 7071, hostname: '127.0.0.1', loopback: true });
  assert.equal(loadLocalHostSettings({ HOST: '0.0.0.0', PORT: '8080' }).loopback, false);
  assert.throws(() => loadLocalHostSettings({ PORT: 'x' }), /PORT must be a whole number/);
});
