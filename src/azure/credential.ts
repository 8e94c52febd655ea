import type { TokenCredential } from '@azure/identity';

export interface CredentialSettings {
  /** Client id of a user-assigned managed identity; system-assigned when absent. */
  managedIdentityClientId?: string | undefined;
  /** `IDENTITY_ENDPOINT` is set: we run on App Service / Functions (or its emulation). */
  hasManagedIdentityEndpoint: boolean;
}

export type CredentialProvider = () => Promise<TokenCredential>;

/**
 * The credential every Azure call uses. On Azure it is exactly the managed
 * identity (no probing of other sources); elsewhere `DefaultAzureCredential`
 * (e.g. after `az login`). `@azure/identity` is imported on first use so a
 * cold start that serves no Azure call never loads it.
 */
export function createCredentialProvider(settings: CredentialSettings): CredentialProvider {
  let credential: Promise<TokenCredential> | undefined;
  return () =>
    (credential ??= import('@azure/identity').then(({ ManagedIdentityCredential, DefaultAzureCredential }) => {
      const clientId = settings.managedIdentityClientId;
      if (settings.hasManagedIdentityEndpoint) {
        return clientId ? new ManagedIdentityCredential({ clientId }) : new ManagedIdentityCredential();
      }
      return new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {});
    }));
}
