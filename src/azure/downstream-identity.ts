import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import type { Principal } from '../auth/principal.ts';
import type { CredentialProvider } from './credential.ts';
import type { OnBehalfOfCredentials } from './on-behalf-of.ts';

/**
 * Which identity a backend (Kusto, later Graph) is called with, per call.
 *
 * - `managedIdentity` (default): app-only; every caller gets what the app's
 *   managed identity may read.
 * - `onBehalfOf`: delegated; the backend sees the signed-in user, and the
 *   user's own permissions apply (src/azure/on-behalf-of.ts).
 *
 * Tools ask for the identity of *their* call (`for(ctx.caller)`), never for a
 * client bound at start-up, so two users' calls cannot share a credential.
 * `partition` keys every cache of data the identity's permissions decide
 * (database lists, schemas): `app` for the managed identity, `user:<tid>/<oid>`
 * on behalf of a user.
 */
export const DOWNSTREAM_IDENTITY_MODES = ['managedIdentity', 'onBehalfOf'] as const;
export type DownstreamIdentityMode = (typeof DOWNSTREAM_IDENTITY_MODES)[number];

export interface DownstreamIdentity {
  readonly mode: DownstreamIdentityMode;
  /** Cache partition: `app`, or `user:<tid>/<oid>`. */
  readonly partition: string;
  /** The credential for this call's backend requests. */
  readonly credential: TokenCredential;
}

export interface DownstreamIdentities {
  readonly mode: DownstreamIdentityMode;
  /** The identity for a call of `caller`; throws OnBehalfOfError when on-behalf-of has no user to act for. */
  for(caller: Principal): DownstreamIdentity;
}

/** The cache partition of the app's own identity. */
export const APP_PARTITION = 'app';

/** A TokenCredential over a lazily created one (so start-up does not load @azure/identity). */
export function lazyCredential(provider: CredentialProvider): TokenCredential {
  return {
    getToken: async (scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> => (await provider()).getToken(scopes, options),
  };
}

/** Every caller, one identity: the app's managed identity. */
export function managedIdentityDownstream(credential: CredentialProvider): DownstreamIdentities {
  const identity: DownstreamIdentity = Object.freeze({ mode: 'managedIdentity', partition: APP_PARTITION, credential: lazyCredential(credential) });
  return { mode: 'managedIdentity', for: () => identity };
}

/** Each caller as themselves, through the on-behalf-of exchange. */
export function onBehalfOfDownstream(onBehalfOf: OnBehalfOfCredentials): DownstreamIdentities {
  return {
    mode: 'onBehalfOf',
    for(caller) {
      const credential = onBehalfOf.forCaller(caller);
      return Object.freeze({ mode: 'onBehalfOf', partition: onBehalfOf.partitionOf(caller), credential });
    },
  };
}
