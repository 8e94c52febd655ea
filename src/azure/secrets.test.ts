import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSecretProvider, SecretUnavailableError } from './secrets.ts';

function fakeVault(values: string[]) {
  const reads: string[] = [];
  let version = 0;
  return {
    reads,
    rotate: () => void version++,
    read: async (name: string) => {
      reads.push(name);
      const value = values[version];
      if (value === undefined) throw new Error('gone');
      return value;
    },
  };
}

test('a secret is read once and served from memory while fresh', async () => {
  const vault = fakeVault(['v1', 'v2']);
  let now = 0;
  const secrets = createSecretProvider({ read: vault.read, ttlMs: 1000, now: () => now });
  assert.deepEqual(await Promise.all([secrets.get('s'), secrets.get('s'), secrets.get('s')]), ['v1', 'v1', 'v1']);
  assert.equal(vault.reads.length, 1, 'concurrent reads share one fetch');
  vault.rotate();
  now = 999;
  assert.equal(await secrets.get('s'), 'v1');
  now = 1000;
  assert.equal(await secrets.get('s'), 'v2', 'the TTL picks up rotation');
  assert.equal(vault.reads.length, 2);
});

test('a failed read is not cached', async () => {
  let fail = true;
  const secrets = createSecretProvider({
    read: async () => {
      if (fail) throw new Error('503');
      return 'ok';
    },
    ttlMs: 60_000,
  });
  await assert.rejects(secrets.get('s'), /503/);
  fail = false;
  assert.equal(await secrets.get('s'), 'ok');
});

test('use() re-reads once after an authentication failure (rotation), and only once', async () => {
  const vault = fakeVault(['old', 'new']);
  const secrets = createSecretProvider({ read: vault.read, ttlMs: 60_000 });
  await secrets.get('client-secret');
  vault.rotate();
  const seen: string[] = [];
  const authFailure = new Error('AADSTS7000215: Invalid client secret');
  const result = await secrets.use(
    'client-secret',
    async (value) => {
      seen.push(value);
      if (value === 'old') throw authFailure;
      return `token-with-${value}`;
    },
    (error) => error === authFailure,
  );
  assert.equal(result, 'token-with-new');
  assert.deepEqual(seen, ['old', 'new']);
  await assert.rejects(
    secrets.use('client-secret', async () => Promise.reject(authFailure), (error) => error === authFailure),
    (error) => error === authFailure,
  );
  assert.equal(vault.reads.length, 3, 'second use: one re-read, then the error surfaces');
  await assert.rejects(secrets.use('client-secret', async () => Promise.reject(new Error('other')), () => false), /other/);
  assert.equal(vault.reads.length, 3, 'other errors do not trigger a re-read');
});

test('SecretUnavailableError says what to do and never carries a value', () => {
  assert.match(new SecretUnavailableError('k', 'https://v', { statusCode: 403 }).message, /Key Vault Secrets User/);
  assert.match(new SecretUnavailableError('k', 'https://v', { statusCode: 404 }).message, /create the secret "k"/);
});
