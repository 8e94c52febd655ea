import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import type { RestError } from '@azure/core-rest-pipeline';
import { startEmulator, type Emulator } from './server.ts';

let emulator: Emulator;
let client: SecretClient;

before(async () => {
  emulator = await startEmulator();
  Object.assign(process.env, emulator.env());
  // No disableChallengeResourceVerification: the vault host ends with `.vault.localhost`.
  client = new SecretClient(emulator.keyVault.vaultUrl, new ManagedIdentityCredential(emulator.identity.clientId));
});

beforeEach(() => emulator.clearRequests());

after(() => emulator.close());

describe('Key Vault secrets', () => {
  it('completes the challenge flow and reads a secret', async () => {
    emulator.keyVault.setSecret('kusto-client-secret', 'first-value');

    const secret = await client.getSecret('kusto-client-secret');

    assert.equal(secret.value, 'first-value');
    assert.equal(secret.properties.vaultUrl, emulator.keyVault.vaultUrl);
    assert.equal(secret.properties.enabled, true);
    const [challenged, authorized] = emulator.requestsFor('keyvault');
    assert.ok(challenged && authorized);
    assert.equal(challenged.headers.authorization, undefined);
    assert.equal(challenged.status, 401);
    const challenge = JSON.parse(challenged.responseBody) as { error: { code: string } };
    assert.equal(challenge.error.code, 'Unauthorized');
    assert.match(authorized.headers.authorization ?? '', /^Bearer ey/);
    assert.equal(authorized.status, 200);
  });

  it('sends the challenge with the authority and the vault resource', async () => {
    const response = await fetch(`${emulator.keyVault.vaultUrl}/secrets/anything?api-version=2025-07-01`);
    assert.equal(response.status, 401);
    assert.equal(
      response.headers.get('www-authenticate'),
      `Bearer authorization="${emulator.origin('login.localhost')}/${emulator.tenantId}", resource="https://vault.localhost"`,
    );
  });

  it('returns the new value after a rotation, and old versions by id', async () => {
    const firstVersion = emulator.keyVault.setSecret('rotating', 'v1');
    const secondVersion = emulator.keyVault.setSecret('rotating', 'v2');

    const latest = await client.getSecret('rotating');
    const first = await client.getSecret('rotating', { version: firstVersion });

    assert.equal(latest.value, 'v2');
    assert.equal(latest.properties.version, secondVersion);
    assert.equal(first.value, 'v1');
    assert.equal(first.properties.id, `${emulator.keyVault.vaultUrl}/secrets/rotating/${firstVersion}`);
  });

  it('reports a missing secret as the SDK 404 RestError', async () => {
    await assert.rejects(client.getSecret('does-not-exist'), (error: RestError) => {
      assert.equal(error.name, 'RestError');
      assert.equal(error.statusCode, 404);
      assert.equal(error.code, 'SecretNotFound');
      assert.match(error.message, /A secret with \(name\/id\) does-not-exist was not found in this key vault/);
      return true;
    });
  });

  it('refuses to read a disabled secret with 403 SecretDisabled', async () => {
    emulator.keyVault.setSecret('switched-off', 'hidden', { enabled: false });
    await assert.rejects(client.getSecret('switched-off'), (error: RestError) => {
      assert.equal(error.statusCode, 403);
      assert.equal(error.code, 'Forbidden');
      assert.match(error.message, /disabled secret/);
      return true;
    });
  });

  it('stores a secret set through the SDK as a new version', async () => {
    emulator.keyVault.setSecret('written', 'old');
    const written = await client.setSecret('written', 'new', { contentType: 'text/plain' });

    assert.equal(emulator.keyVault.getSecret('written')?.value, 'new');
    assert.equal(emulator.keyVault.getSecret('written')?.version, written.properties.version);
    assert.equal(written.properties.contentType, 'text/plain');
  });

  it('rejects a token for another audience with the challenge', async () => {
    const token = await emulator.mintToken({ aud: 'https://monitor.azure.com' });
    const response = await fetch(`${emulator.keyVault.vaultUrl}/secrets/anything?api-version=2025-07-01`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    assert.equal(response.status, 401);
    assert.ok(response.headers.get('www-authenticate')?.includes('resource="https://vault.localhost"'));
  });

  it('works with DefaultAzureCredential through the managed identity env vars', async () => {
    emulator.keyVault.setSecret('default-credential', 'dac');
    const dacClient = new SecretClient(emulator.keyVault.vaultUrl, new DefaultAzureCredential());
    assert.equal((await dacClient.getSecret('default-credential')).value, 'dac');
  });
});
