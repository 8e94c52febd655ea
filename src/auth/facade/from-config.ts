import { randomUUID } from 'node:crypto';
import type { Auditor } from '../../audit/auditor.ts';
import type { CredentialProvider } from '../../azure/credential.ts';
import { tokenExchangeAudience } from '../../azure/on-behalf-of.ts';
import type { SecretProvider } from '../../azure/secrets.ts';
import type { AuthSettings } from '../settings.ts';
import { createOAuthFacade, type OAuthFacade } from './facade.ts';
import { keyRingFrom, type KeyRing } from './sealed.ts';

export interface FacadeDependencies {
  /** The app's managed identity: the facade's client assertion at Entra. */
  credential: CredentialProvider;
  /** Key Vault, where the sealing keys are. */
  secrets: SecretProvider | undefined;
  auditor: Auditor;
}

/**
 * The facade as the settings describe it, or undefined when it is off.
 * Keys are read from Key Vault on use (cached like every secret, so a
 * rotation reaches every instance within the secret cache's TTL).
 */
export function facadeFromSettings(auth: AuthSettings, deps: FacadeDependencies): OAuthFacade | undefined {
  if (!auth.facade || !auth.entra || !auth.publicUrl) return undefined;
  const { secrets } = deps;
  if (!secrets) throw new Error('MCP_OAUTH_FACADE needs KEY_VAULT_URL: its sealing keys are a Key Vault secret');
  const secretName = auth.facade.keySecretName;
  let ring: { value: string; ring: KeyRing } | undefined;
  const keyRing = async () => {
    const value = await secrets.get(secretName);
    if (ring?.value !== value) ring = { value, ring: keyRingFrom(value) };
    return ring.ring;
  };
  const exchangeScope = `${tokenExchangeAudience(auth.entra.authorityHost)}/.default`;
  const clientAssertion = async () => {
    const token = await (await deps.credential()).getToken(exchangeScope);
    if (!token) throw new Error('the managed identity returned no token');
    return token.token;
  };
  return createOAuthFacade({
    entra: auth.entra,
    publicUrl: auth.publicUrl,
    redirectUris: auth.facade.redirectUris,
    keyRing,
    clientAssertion,
    audit: (facts) => deps.auditor.oauth({ ...facts, requestId: randomUUID().replaceAll('-', '') }),
  });
}
