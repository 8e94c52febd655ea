import type { TokenCredential } from '@azure/identity';
import type { CredentialProvider } from './credential.ts';

/** Reads one secret's current value. The Key Vault implementation is the only one in production. */
export type SecretReader = (name: string) => Promise<string>;

export interface SecretProvider {
  /** The secret's value, from the in-memory cache while it is fresh. */
  get(name: string): Promise<string>;
  /**
   * Runs `use` with the secret. If it fails with an authentication error
   * (`isAuthFailure`), the secret was probably rotated: the value is read
   * again from Key Vault once and `use` retried with it.
   */
  use<T>(name: string, use: (value: string) => Promise<T>, isAuthFailure: (error: unknown) => boolean): Promise<T>;
}

export class SecretUnavailableError extends Error {
  constructor(name: string, vaultUrl: string, cause: unknown) {
    const status = (cause as { statusCode?: number }).statusCode;
    const hint =
      status === 404
        ? `create the secret "${name}" in ${vaultUrl}`
        : status === 403 || status === 401
          ? `grant the app's managed identity the "Key Vault Secrets User" role on ${vaultUrl}, and check that the secret is enabled`
          : `check that ${vaultUrl} is reachable from the app`;
    // Never include the value or the token; the status and name are enough to act on.
    super(`Key Vault secret "${name}" could not be read${status ? ` (HTTP ${status})` : ''}: ${hint}.`);
    this.name = 'SecretUnavailableError';
  }
}

export interface SecretProviderOptions {
  read: SecretReader;
  ttlMs: number;
  now?: () => number;
}

/** Caches secrets per instance with a TTL; concurrent reads of one secret share one fetch. */
export function createSecretProvider(options: SecretProviderOptions): SecretProvider {
  const now = options.now ?? Date.now;
  const cache = new Map<string, { value: Promise<string>; expires: number }>();

  function fetchFresh(name: string): Promise<string> {
    const value = options.read(name);
    cache.set(name, { value, expires: now() + options.ttlMs });
    // A failed read must not be cached: the next call tries again.
    value.catch(() => {
      if (cache.get(name)?.value === value) cache.delete(name);
    });
    return value;
  }

  const get = (name: string) => {
    const hit = cache.get(name);
    return hit && hit.expires > now() ? hit.value : fetchFresh(name);
  };

  return {
    get,
    async use(name, use, isAuthFailure) {
      const value = await get(name);
      try {
        return await use(value);
      } catch (error) {
        if (!isAuthFailure(error)) throw error;
        return use(await fetchFresh(name));
      }
    },
  };
}

/** The Key Vault reader: `SecretClient` over the app's credential, loaded on first use. */
export function keyVaultSecretReader(vaultUrl: string, credential: CredentialProvider): SecretReader {
  let client: Promise<{ getSecret(name: string): Promise<{ value?: string }> }> | undefined;
  const load = async () => {
    const [{ SecretClient }, token]: [typeof import('@azure/keyvault-secrets'), TokenCredential] = await Promise.all([
      import('@azure/keyvault-secrets'),
      credential(),
    ]);
    return new SecretClient(vaultUrl, token);
  };
  return async (name) => {
    client ??= load();
    let secret: { value?: string };
    try {
      secret = await (await client).getSecret(name);
    } catch (error) {
      throw new SecretUnavailableError(name, vaultUrl, error);
    }
    if (secret.value === undefined) throw new SecretUnavailableError(name, vaultUrl, { statusCode: 404 });
    return secret.value;
  };
}
