import { z } from 'zod';
import { booleanSetting, secretName } from '../config-fields.ts';
import { isLoopbackHostname } from '../core/loopback.ts';

/**
 * The identity-and-access settings, as a zod fragment for `src/config.ts` to
 * compose (this module reads no environment itself):
 *
 * @example
 * const settingsSchema = z
 *   .object({ ...otherSettings, ...authSettingsShape })
 *   .superRefine((settings, ctx) => { ...; checkAuthSettings(settings, ctx); });
 * const auth = authSettingsFrom(parsed.data); // AuthSettings
 *
 * `authSettingsSchema` is the fragment on its own (shape plus checks), for
 * tests and for callers that only need these settings.
 */

/** How `/mcp` callers are admitted. */
export const AUTH_MODES = ['entra', 'easyAuth', 'functionKey', 'none'] as const;
export type McpAuthMode = (typeof AUTH_MODES)[number];

export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';
export const DEFAULT_REQUIRED_SCOPE = 'user_impersonation';
export const DEFAULT_CLOCK_SKEW_SECONDS = 60;
const MAX_CLOCK_SKEW_SECONDS = 300;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A scope or app role value as Entra allows it (no spaces, no slash: never fully qualified here). */
const PERMISSION_VALUE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,119}$/;

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value?.trim() ? value.trim() : undefined));

const tenantList = optionalText.transform((value, ctx) => {
  const ids = [...new Set((value ?? '').split(',').map((id) => id.trim().toLowerCase()).filter(Boolean))];
  const bad = ids.filter((id) => !GUID.test(id));
  if (bad.length > 0) {
    ctx.addIssue({
      code: 'custom',
      message: `must list tenant ids (GUIDs), comma-separated; not ${bad.map((id) => JSON.stringify(id)).join(', ')} (common, organizations and domain names are not accepted: the token's tid is checked against this list)`,
    });
    return z.NEVER;
  }
  return ids;
});

const guidSetting = (what: string) =>
  optionalText.refine((value) => value === undefined || GUID.test(value), { error: `must be ${what} (a GUID)` });

const permissionSetting = (what: string) =>
  optionalText.refine((value) => value === undefined || (PERMISSION_VALUE.test(value) && value !== 'offline_access'), {
    error: `must be ${what} as declared on the app registration (no spaces or slashes, not fully qualified, not offline_access)`,
  });

const identifierUri = optionalText.transform((value, ctx) => {
  if (value === undefined) return undefined;
  const trimmed = value.replace(/\/+$/, '');
  const url = URL.canParse(trimmed) ? new URL(trimmed) : undefined;
  if (!url || !['api:', 'https:'].includes(url.protocol) || url.search || url.hash) {
    ctx.addIssue({ code: 'custom', message: 'must be the API\'s Application ID URI, e.g. api://<client-id> (api:// or https://, no query)' });
    return z.NEVER;
  }
  return trimmed;
});

const authorityHost = optionalText.transform((value, ctx) => {
  const trimmed = (value ?? DEFAULT_AUTHORITY_HOST).replace(/\/+$/, '');
  const url = URL.canParse(trimmed) ? new URL(trimmed) : undefined;
  if (!url || url.protocol !== 'https:' || (url.pathname !== '/' && url.pathname !== '') || url.search) {
    ctx.addIssue({ code: 'custom', message: 'must be an https:// origin such as https://login.microsoftonline.com' });
    return z.NEVER;
  }
  return url.origin;
});

const publicUrl = optionalText.transform((value, ctx) => {
  if (value === undefined) return undefined;
  const url = URL.canParse(value) ? new URL(value) : undefined;
  const loopback = url !== undefined && isLoopbackHostname(url.hostname);
  const path = url?.pathname.replace(/\/+$/, '') ?? '';
  if (!url || !(url.protocol === 'https:' || (url.protocol === 'http:' && loopback)) || url.search || url.hash || path === '') {
    ctx.addIssue({
      code: 'custom',
      message: 'must be the public https:// URL of the MCP endpoint with its path, e.g. https://<app>.azurewebsites.net/mcp (http only on loopback; no query)',
    });
    return z.NEVER;
  }
  return `${url.origin}${path}`;
});

const redirectUriList = optionalText.transform((value, ctx) => {
  const uris = [...new Set((value ?? '').split(',').map((uri) => uri.trim()).filter(Boolean))];
  // Compared exactly with what clients send, so each must already be in the form a parser gives it.
  const bad = uris.filter((uri) => !URL.canParse(uri) || new URL(uri).protocol !== 'https:' || new URL(uri).href !== uri || new URL(uri).username !== '' || uri.includes('#'));
  if (bad.length > 0) {
    ctx.addIssue({ code: 'custom', message: `must list https:// redirect URIs exactly as clients send them (no fragment, no user info, normal form); not ${bad.map((uri) => JSON.stringify(uri)).join(', ')}` });
    return z.NEVER;
  }
  return uris;
});

const clockSkew = optionalText.transform((value, ctx) => {
  if (value === undefined) return DEFAULT_CLOCK_SKEW_SECONDS;
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_CLOCK_SKEW_SECONDS) {
    ctx.addIssue({ code: 'custom', message: `must be a whole number of seconds from 0 to ${MAX_CLOCK_SKEW_SECONDS}` });
    return z.NEVER;
  }
  return seconds;
});

/** The settings, each with what it means. Spread into config.ts's settings object. */
export const authSettingsShape = {
  /**
   * `entra` (recommended): every `/mcp` request carries an Entra access token for this API,
   * validated in-app (src/auth/entra-token.ts); protected resource metadata is served.
   * `easyAuth`: App Service authentication admits callers; its principal headers are trusted.
   * `functionKey` (default): the Functions host requires a key; the caller is anonymous to the app.
   * `none`: no authentication; for loopback only (sandbox, local development).
   */
  MCP_AUTH_MODE: z.enum(AUTH_MODES, { error: `must be one of ${AUTH_MODES.join(', ')}` }).default('functionKey'),
  /**
   * Tenant id(s) whose tokens are accepted, comma-separated GUIDs; the first is the home tenant
   * (the one named in protected resource metadata first). Required in `entra` mode.
   */
  ENTRA_TENANT_ID: tenantList,
  /** Application (client) id of the API's app registration. Required in `entra` mode. */
  ENTRA_API_CLIENT_ID: guidSetting('the application (client) id of the API app registration'),
  /** The API's Application ID URI; default `api://<ENTRA_API_CLIENT_ID>`. Tokens may name it or the client id as audience. */
  ENTRA_API_IDENTIFIER_URI: identifierUri,
  /** Also accept v1 access tokens (issuer `https://sts.windows.net/<tid>/`); default false (v2 only). */
  ENTRA_ACCEPT_V1_TOKENS: booleanSetting(false),
  /** The delegated scope a user token must carry in `scp` (bare name, e.g. `user_impersonation`, the default). */
  ENTRA_REQUIRED_SCOPE: permissionSetting('a delegated scope name'),
  /** The app role an app-only (client credentials) token must carry in `roles`; unset: app-only callers are refused. */
  ENTRA_APP_ROLE: permissionSetting('an app role value'),
  /** Clock skew tolerated on `exp`/`nbf`, in seconds (0 to 300, default 60). */
  ENTRA_CLOCK_SKEW_SECONDS: clockSkew,
  /**
   * Entra's login host (`https://login.microsoftonline.com`, the default; a sovereign cloud's or
   * the emulator's). The same variable @azure/identity reads, so both agree.
   */
  AZURE_AUTHORITY_HOST: authorityHost,
  /**
   * The public URL of the MCP endpoint with its path (`https://<app>.azurewebsites.net/mcp`):
   * the `resource` of the protected resource metadata and the base of its URL. Taken from
   * configuration, never from the request (behind a proxy the request's scheme is `http`).
   * Required in `entra` mode.
   */
  MCP_PUBLIC_URL: publicUrl,
  /** Answer `tools/list` without a token (for gateways that register tools before sign-in); `tools/call` still needs one. Default false; `entra` mode only. */
  MCP_ALLOW_ANONYMOUS_TOOLS_LIST: booleanSetting(false),
  /**
   * Serve the authorization-server facade (src/auth/facade/): the protected resource metadata names
   * this server as the authorization server, which relays sign-in to Entra for clients that cannot
   * sign in to Entra on their own (docs/clients.md). Default false: Entra itself is named. `entra` mode only.
   */
  MCP_OAUTH_FACADE: booleanSetting(false),
  /** The Key Vault secret holding the facade's sealing keys (one or more, space-separated; the first seals). Default `oauth-facade-key`. */
  MCP_OAUTH_FACADE_KEY_SECRET: secretName,
  /**
   * HTTPS redirect URIs the facade sends codes to besides loopback ones, comma-separated, compared
   * exactly (e.g. `https://claude.ai/api/mcp/auth_callback`).
   */
  MCP_OAUTH_REDIRECT_URIS: redirectUriList,
  /** Set by App Service on Azure (platform setting); read here only to refuse `none` there. */
  WEBSITE_SITE_NAME: z.string().optional(),
};

const authSettingsObject = z.object(authSettingsShape);
export type AuthSettingsInput = z.output<typeof authSettingsObject>;

/**
 * The checks across these settings. Call from config.ts's `superRefine`;
 * issues carry the setting's name as their path, like config.ts's own.
 */
export function checkAuthSettings(settings: AuthSettingsInput & { KEY_VAULT_URL?: string | undefined }, ctx: z.RefinementCtx): void {
  const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (settings.MCP_OAUTH_FACADE) {
    if (settings.MCP_AUTH_MODE !== 'entra') problem('MCP_OAUTH_FACADE', 'only applies when MCP_AUTH_MODE is entra');
    if (!settings.KEY_VAULT_URL) problem('KEY_VAULT_URL', 'is required when MCP_OAUTH_FACADE is true (its sealing keys are a Key Vault secret)');
  } else {
    if (settings.MCP_OAUTH_REDIRECT_URIS.length > 0) problem('MCP_OAUTH_REDIRECT_URIS', 'only applies when MCP_OAUTH_FACADE is true');
    if (settings.MCP_OAUTH_FACADE_KEY_SECRET) problem('MCP_OAUTH_FACADE_KEY_SECRET', 'only applies when MCP_OAUTH_FACADE is true');
  }
  if (settings.MCP_AUTH_MODE === 'entra') {
    if (!settings.ENTRA_TENANT_ID?.length) problem('ENTRA_TENANT_ID', 'is required when MCP_AUTH_MODE is entra');
    if (!settings.ENTRA_API_CLIENT_ID) problem('ENTRA_API_CLIENT_ID', 'is required when MCP_AUTH_MODE is entra');
    if (!settings.MCP_PUBLIC_URL) problem('MCP_PUBLIC_URL', 'is required when MCP_AUTH_MODE is entra (the public URL of /mcp, with its path)');
  } else if (settings.MCP_ALLOW_ANONYMOUS_TOOLS_LIST) {
    problem('MCP_ALLOW_ANONYMOUS_TOOLS_LIST', 'only applies when MCP_AUTH_MODE is entra');
  }
  if (settings.MCP_AUTH_MODE === 'none' && settings.WEBSITE_SITE_NAME) {
    problem('MCP_AUTH_MODE', 'is none on App Service: the endpoint would be open to anyone; use entra, easyAuth or functionKey');
  }
  if (settings.ENTRA_API_IDENTIFIER_URI && !settings.ENTRA_API_CLIENT_ID) {
    problem('ENTRA_API_CLIENT_ID', 'is required when ENTRA_API_IDENTIFIER_URI is set');
  }
}

/** The fragment on its own: shape plus checks (with KEY_VAULT_URL, the one other setting they read). */
export const authSettingsSchema = authSettingsObject.extend({ KEY_VAULT_URL: z.string().optional() }).superRefine(checkAuthSettings);

/** What the token validator, the metadata document and (later) on-behalf-of need to know about the API. */
export interface EntraSettings {
  /** `https://login.microsoftonline.com` or another cloud's (or the emulator's) login origin. */
  authorityHost: string;
  /** Accepted tenants, lower case; the first is the home tenant. */
  tenantIds: string[];
  clientId: string;
  /** `api://<client-id>` unless configured. */
  identifierUri: string;
  acceptV1Tokens: boolean;
  /** Bare delegated scope name a user token needs. */
  requiredScope: string;
  /** App role an app-only token needs; undefined: app-only tokens are refused. */
  appRole: string | undefined;
  clockSkewSeconds: number;
}

export interface AuthSettings {
  mode: McpAuthMode;
  /** Present in `entra` mode, and in other modes when tenant and client id are both set (for on-behalf-of). */
  entra: EntraSettings | undefined;
  /** `MCP_PUBLIC_URL` without a trailing slash. */
  publicUrl: string | undefined;
  allowAnonymousToolsList: boolean;
  /** The authorization-server facade, when on. */
  facade: FacadeSettings | undefined;
}

export interface FacadeSettings {
  keySecretName: string;
  redirectUris: string[];
}

export const DEFAULT_FACADE_KEY_SECRET = 'oauth-facade-key';

/** The typed view of parsed settings (after `checkAuthSettings` passed). */
export function authSettingsFrom(settings: AuthSettingsInput): AuthSettings {
  const tenantIds = settings.ENTRA_TENANT_ID ?? [];
  const clientId = settings.ENTRA_API_CLIENT_ID?.toLowerCase();
  const entra: EntraSettings | undefined =
    tenantIds.length > 0 && clientId
      ? {
          authorityHost: settings.AZURE_AUTHORITY_HOST,
          tenantIds,
          clientId,
          identifierUri: settings.ENTRA_API_IDENTIFIER_URI ?? `api://${clientId}`,
          acceptV1Tokens: settings.ENTRA_ACCEPT_V1_TOKENS,
          requiredScope: settings.ENTRA_REQUIRED_SCOPE ?? DEFAULT_REQUIRED_SCOPE,
          appRole: settings.ENTRA_APP_ROLE,
          clockSkewSeconds: settings.ENTRA_CLOCK_SKEW_SECONDS,
        }
      : undefined;
  return {
    mode: settings.MCP_AUTH_MODE,
    entra,
    publicUrl: settings.MCP_PUBLIC_URL,
    allowAnonymousToolsList: settings.MCP_AUTH_MODE === 'entra' && settings.MCP_ALLOW_ANONYMOUS_TOOLS_LIST,
    facade:
      settings.MCP_AUTH_MODE === 'entra' && settings.MCP_OAUTH_FACADE
        ? { keySecretName: settings.MCP_OAUTH_FACADE_KEY_SECRET ?? DEFAULT_FACADE_KEY_SECRET, redirectUris: settings.MCP_OAUTH_REDIRECT_URIS }
        : undefined,
  };
}

/** The fully qualified scope a user token needs, as clients must request it: `api://<client-id>/user_impersonation`. */
export function qualifiedScope(entra: Pick<EntraSettings, 'identifierUri' | 'requiredScope'>): string {
  return `${entra.identifierUri}/${entra.requiredScope}`;
}
