import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createCredentialProvider } from '../../src/azure/credential.ts';
import { createSecretProvider, keyVaultSecretReader, SecretUnavailableError } from '../../src/azure/secrets.ts';
import { startEmulator, type Emulator } from '../../emulator/server.ts';

/** The product's secret provider over the real SecretClient and ManagedIdentityCredential, against the emulator. */
let emulator: Emulator;
before(async () => {
  emulator = await startEmulator();
  // msal-node fixes its managed identity source on first use: set the environment first.
  const env = emulator.env();
  for (const name of ['IDENTITY_ENDPOINT', 'IDENTITY_HEADER', 'AZURE_CLIENT_ID']) process.env[name] = env[name];
});
after(() => emulator.close());

const provider = () => {
  const credential = createCredentialProvider({ managedIdentityClientId: emulator.identity.clientId, hasManagedIdentityEndpoint: true });
  return createSecretProvider({ read: keyVaultSecretReader(emulator.keyVault.vaultUrl, credential), ttlMs: 60_000 });
};

test('reads through the challenge flow, caches, and re-reads once after an authentication failure', async () => {
  emulator.keyVault.setSecret('client-secret', 'old-value');
  const secrets = provider();
  assert.equal(await secrets.get('client-secret'), 'old-value');
  assert.equal(await secrets.get('client-secret'), 'old-value');
  const reads = () => emulator.requestsFor('keyvault').filter((r) => r.url.includes('/secrets/client-secret') && r.status === 200).length;
  assert.equal(reads(), 1, 'cached');

  emulator.keyVault.setSecret('client-secret', 'new-value'); // rotation
  const rejected = new Error('AADSTS7000215: Invalid client secret provided.');
  const used: string[] = [];
  const token = await secrets.use(
    'client-secret',
    async (value) => {
      used.push(value);
      if (value !== 'new-value') throw rejected;
      return 'token';
    },
    (error) => error === rejected,
  );
  assert.equal(token, 'token');
  assert.deepEqual(used, ['old-value', 'new-value']);
  assert.equal(reads(), 2, 'exactly one re-read');
});

test('failures say what to do and never carry a value', async () => {
  emulator.keyVault.setSecret('disabled-one', 'hidden-value', { enabled: false });
  const secrets = provider();
  await assert.rejects(secrets.get('missing-one'), (error: unknown) => {
    assert.ok(error instanceof SecretUnavailableError);
    assert.match(error.message, /HTTP 404.*create the secret "missing-one"/);
    return true;
  });
  await assert.rejects(secrets.get('disabled-one'), (error: unknown) => {
    assert.ok(error instanceof SecretUnavailableError);
    assert.match(error.message, /HTTP 403/);
    assert.ok(!error.message.includes('hidden-value'));
    return true;
  });
});
