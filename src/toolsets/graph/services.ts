import type { Client } from '@microsoft/microsoft-graph-client';
import type { Principal } from '../../auth/principal.ts';
import type { DownstreamIdentities, DownstreamIdentityMode } from '../../azure/downstream-identity.ts';
import { createCircuitBreaker } from '../../graph/circuit-breaker.ts';
import { createCursorCodec, type CursorCodec } from '../../graph/cursor.ts';
import { ephemeralCursorKeys, secretCursorKeys } from '../../graph/cursor-keys.ts';
import type { GraphEndpoint } from '../../graph/endpoint.ts';
import { createGraphClientFactory } from '../../graph/graph-client.ts';
import type { SecretProvider } from '../../azure/secrets.ts';
import type { GraphModuleSettings } from './settings.ts';
import { createConfirmationCodec, type ConfirmationCodec } from './writes/confirmation-token.ts';

/**
 * What every Graph tool gets. A tool asks for the session of *its* call
 * (`session(ctx.caller)`): a Graph client carrying the identity Graph sees
 * for that caller, and the path that means "the caller" to Graph.
 *
 * - `onBehalfOf`: the signed-in user's own token (the on-behalf-of
 *   exchange); "the caller" is `/me`, and Graph applies the user's access.
 * - `managedIdentity`: the app's identity with its application permissions;
 *   "the caller" is `/users/<the caller's object id>`, never a path a caller
 *   chooses, so nobody reaches another user's mailbox, chats or calendar.
 */
export interface GraphSession {
  client: Client;
  identity: DownstreamIdentityMode;
  /** `me`, or `users/<object id>` in app-only mode (no leading slash). */
  me: string;
  /** The signed-in caller's object id (present in both modes: no anonymous Graph call is made). */
  userId: string;
}

export interface GraphServices {
  settings: GraphModuleSettings;
  endpoint: GraphEndpoint;
  identity: DownstreamIdentityMode;
  cursors: CursorCodec;
  /** Write confirmation tokens (GRAPH_WRITE_CONFIRMATION=preview): the cursor keys, derived for this purpose (writes/confirmation-token.ts). */
  confirmations: ConfirmationCodec;
  /** Throws (OnBehalfOfError `no_user`, or NoGraphUserError) when the caller is no signed-in user. */
  session(caller: Principal): Promise<GraphSession>;
}

/** An app-only Graph call for a caller who is not a signed-in user: nobody for "me" to be. */
export class NoGraphUserError extends Error {
  readonly code = 'no_user';
  readonly nextStep = 'Call with a user\'s Entra token for this server (sign in as a user in your MCP client).';
  constructor(authMode: string) {
    super(`The Graph tools act for a signed-in user, and this caller is none (auth mode ${authMode}, or an app-only token).`);
    this.name = 'NoGraphUserError';
  }
}

export interface GraphServicesDeps {
  identities: DownstreamIdentities;
  secrets: SecretProvider | undefined;
  fetch?: typeof fetch;
}

export function createGraphServices(settings: GraphModuleSettings, deps: GraphServicesDeps): GraphServices {
  const breaker = createCircuitBreaker(settings.circuit);
  const factory = createGraphClientFactory({
    endpoint: settings.endpoint,
    requestTimeoutMs: settings.requestTimeoutMs,
    retry: settings.retry,
    breaker,
    ...(deps.fetch && { fetch: deps.fetch }),
  });
  const { keySecretName, previousKeySecretName, ttlMs } = settings.cursor;
  const keys = keySecretName && deps.secrets ? secretCursorKeys(deps.secrets, { current: keySecretName, previous: previousKeySecretName }) : ephemeralCursorKeys();
  const cursors = createCursorCodec({ keys, endpoint: settings.endpoint, ttlMs });
  const mode = deps.identities.mode;
  return {
    settings,
    endpoint: settings.endpoint,
    identity: mode,
    cursors,
    confirmations: createConfirmationCodec({ keys }),
    async session(caller) {
      // Delegated: the exchange refuses a caller without a user token. App-only: refused here, for "me" must be someone.
      if (mode === 'managedIdentity' && (caller.idtyp !== 'user' || !caller.objectId)) throw new NoGraphUserError(caller.authMode);
      const identity = deps.identities.for(caller);
      const client = await factory.client(identity.credential);
      const userId = (caller.objectId ?? '').toLowerCase();
      return { client, identity: mode, me: mode === 'onBehalfOf' ? 'me' : `users/${encodeURIComponent(userId)}`, userId };
    },
  };
}
