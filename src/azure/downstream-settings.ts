import { z } from 'zod';
import { secretName } from '../config-fields.ts';
import type { AuthSettings } from '../auth/settings.ts';
import { DOWNSTREAM_IDENTITY_MODES, type DownstreamIdentityMode } from './downstream-identity.ts';
import type { OnBehalfOfClientAuth } from './on-behalf-of.ts';

/**
 * The downstream-identity settings, as a zod fragment for `src/config.ts`
 * to compose (as src/auth/settings.ts is): which identity each backend is
 * called with, and how the API's app registration authenticates in the
 * on-behalf-of exchange. No secret is a setting: the fallbacks name Key
 * Vault secrets, read at run time.
 *
 * @example
 * const settingsSchema = z.object({ ...other, ...downstreamSettingsShape }).superRefine((s, ctx) => { checkDownstreamSettings(s, ctx); });
 * const downstream = downstreamSettingsFrom(parsed.data, authSettingsFrom(parsed.data));
 */

const identityMode = z
  .enum(DOWNSTREAM_IDENTITY_MODES, { error: `must be one of ${DOWNSTREAM_IDENTITY_MODES.join(', ')}` })
  .default('managedIdentity');

export const downstreamSettingsShape = {
  /**
   * Who Kusto sees. `managedIdentity` (default): the app's identity, app-only; every caller reads
   * what it may. `onBehalfOf`: the signed-in user, through the on-behalf-of exchange; the user's
   * own database roles (and row-level security) apply. Needs MCP_AUTH_MODE=entra (or easyAuth with
   * the token store), ENTRA_TENANT_ID and ENTRA_API_CLIENT_ID.
   */
  KUSTO_IDENTITY: identityMode,
  /**
   * Who Microsoft Graph sees; unset: the Graph toolsets are off. `onBehalfOf` (recommended): the
   * signed-in user, whose own access applies (`/me/...`). `managedIdentity`: the app's identity
   * with the Graph application permissions an admin granted it; "me" is the signed-in caller's
   * user id, and a caller never reaches another user's mail, chats or calendar. Both need a signed-in
   * caller (MCP_AUTH_MODE=entra or easyAuth).
   */
  GRAPH_IDENTITY: z.enum(DOWNSTREAM_IDENTITY_MODES, { error: `must be one of ${DOWNSTREAM_IDENTITY_MODES.join(', ')}` }).optional(),
  /**
   * On-behalf-of fallback: the Key Vault secret holding a client secret of the API app registration
   * (the secret's name, never its value). Default: none, the managed identity is the app's federated
   * credential and no secret exists.
   */
  ENTRA_API_CLIENT_SECRET_NAME: secretName,
  /** On-behalf-of fallback: the Key Vault secret holding the app registration's certificate as PEM (private key and certificate). */
  ENTRA_API_CERTIFICATE_SECRET_NAME: secretName,
};

const downstreamSettingsObject = z.object(downstreamSettingsShape);
export type DownstreamSettingsInput = z.output<typeof downstreamSettingsObject>;

/** What the checks need from the other settings. */
interface Related {
  MCP_AUTH_MODE: string;
  ENTRA_TENANT_ID?: readonly string[] | undefined;
  ENTRA_API_CLIENT_ID?: string | undefined;
  KEY_VAULT_URL?: string | undefined;
}

/** The checks across these settings and the auth ones. Call from config.ts's `superRefine`. */
export function checkDownstreamSettings(settings: DownstreamSettingsInput & Related, ctx: z.RefinementCtx): void {
  const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  const signedIn = settings.MCP_AUTH_MODE === 'entra' || settings.MCP_AUTH_MODE === 'easyAuth';
  const onBehalfOfSettings = (['KUSTO_IDENTITY', 'GRAPH_IDENTITY'] as const).filter((name) => settings[name] === 'onBehalfOf');
  const onBehalfOf = onBehalfOfSettings.length > 0;
  for (const name of onBehalfOfSettings) {
    if (!signedIn) {
      problem(name, `is onBehalfOf, which acts for the signed-in user: it needs MCP_AUTH_MODE=entra (or easyAuth with the token store), not ${settings.MCP_AUTH_MODE}, which identifies no user`);
    }
    if (!settings.ENTRA_TENANT_ID?.length) problem('ENTRA_TENANT_ID', `is required when ${name} is onBehalfOf (the tenant of the API app registration)`);
    if (!settings.ENTRA_API_CLIENT_ID) problem('ENTRA_API_CLIENT_ID', `is required when ${name} is onBehalfOf (the app registration that exchanges the user's token)`);
  }
  if (settings.GRAPH_IDENTITY === 'managedIdentity' && !signedIn) {
    problem('GRAPH_IDENTITY', `is managedIdentity, which reads Graph for the signed-in caller only ("me" is the caller's user id): it needs MCP_AUTH_MODE=entra or easyAuth, not ${settings.MCP_AUTH_MODE}`);
  }
  for (const name of ['ENTRA_API_CLIENT_SECRET_NAME', 'ENTRA_API_CERTIFICATE_SECRET_NAME'] as const) {
    if (!settings[name]) continue;
    if (!onBehalfOf) problem(name, 'only applies when a backend uses on-behalf-of (KUSTO_IDENTITY or GRAPH_IDENTITY onBehalfOf)');
    if (!settings.KEY_VAULT_URL) problem('KEY_VAULT_URL', `is required when ${name} is set`);
  }
  if (settings.ENTRA_API_CLIENT_SECRET_NAME && settings.ENTRA_API_CERTIFICATE_SECRET_NAME) {
    problem('ENTRA_API_CLIENT_SECRET_NAME', 'and ENTRA_API_CERTIFICATE_SECRET_NAME are alternatives: set one (or neither, for the secretless federated credential)');
  }
}

export interface DownstreamSettings {
  kusto: DownstreamIdentityMode;
  /** Undefined: the Graph toolsets are off. */
  graph: DownstreamIdentityMode | undefined;
  /** Present when a backend acts on behalf of users. */
  onBehalfOf: { authorityHost: string; clientId: string; clientAuth: OnBehalfOfClientAuth } | undefined;
}

/** The typed view (after the checks passed). */
export function downstreamSettingsFrom(settings: DownstreamSettingsInput, auth: AuthSettings): DownstreamSettings {
  const clientAuth: OnBehalfOfClientAuth = settings.ENTRA_API_CERTIFICATE_SECRET_NAME
    ? { kind: 'certificate', secretName: settings.ENTRA_API_CERTIFICATE_SECRET_NAME }
    : settings.ENTRA_API_CLIENT_SECRET_NAME
      ? { kind: 'secret', secretName: settings.ENTRA_API_CLIENT_SECRET_NAME }
      : { kind: 'managedIdentity' };
  const needed = settings.KUSTO_IDENTITY === 'onBehalfOf' || settings.GRAPH_IDENTITY === 'onBehalfOf';
  return {
    kusto: settings.KUSTO_IDENTITY,
    graph: settings.GRAPH_IDENTITY,
    onBehalfOf: needed && auth.entra ? { authorityHost: auth.entra.authorityHost, clientId: auth.entra.clientId, clientAuth } : undefined,
  };
}
