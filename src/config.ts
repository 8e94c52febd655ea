import { z } from 'zod';
import { authSettingsFrom, authSettingsShape, checkAuthSettings, type AuthSettings, type McpAuthMode } from './auth/settings.ts';
import { checkDownstreamSettings, downstreamSettingsFrom, downstreamSettingsShape, type DownstreamSettings } from './azure/downstream-settings.ts';
import { parseToolsetGrants, type ToolsetGrants } from './auth/grants.ts';
import { booleanSetting, csv, httpsUrl, positiveInt, wholeNumber } from './config-fields.ts';
import { isToolsetId, TOOLSET_IDS, unknownToolsetsProblem, type ToolsetId } from './toolsets/registry.ts';
import { checkToolsetSettings, toolsetSettingsFrom, toolsetSettingsShape, type ToolsetSettingsByModule } from './toolsets/settings.ts';

/**
 * The one typed view of the app settings. Every setting is read here and
 * nowhere else; an invalid or missing setting fails start-up with an error
 * that names it. No secret is ever read from the environment: a secret is a
 * Key Vault secret *name*, resolved at run time (see src/azure/secrets.ts).
 * The general settings are declared here; each toolset module declares its
 * own (src/toolsets/<name>/settings.ts), composed into the same schema.
 */

/** Tool calls a minute per caller when MCP_RATE_LIMIT_PER_MINUTE is not set (except in `none` mode: loopback, one developer). */
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 120;
export const DEFAULT_RATE_LIMIT_BURST = 30;

/** A literal `@Microsoft.KeyVault(...)` value means the platform failed to resolve a reference. */
const notUnresolvedReference = (value: string | undefined) => !value?.startsWith('@Microsoft.KeyVault(');

/**
 * The whole graceful shutdown (grace for running calls, then the audit flush) fits in this,
 * well inside the 10 s a container platform typically waits between SIGTERM and SIGKILL.
 */
export const DEFAULT_SHUTDOWN_SECONDS = 8;
export const MAX_SHUTDOWN_SECONDS = 60;

export type AuthMode = McpAuthMode;

const generalSettingsShape = {
  // MCP_AUTH_MODE, ENTRA_*, MCP_PUBLIC_URL, AZURE_AUTHORITY_HOST, WEBSITE_SITE_NAME: src/auth/settings.ts.
  ...authSettingsShape,
  // KUSTO_IDENTITY, ENTRA_API_CLIENT_SECRET_NAME, ENTRA_API_CERTIFICATE_SECRET_NAME: src/azure/downstream-settings.ts.
  ...downstreamSettingsShape,
  MCP_ALLOWED_ORIGINS: z.string().optional(),
  MCP_MAX_BODY_BYTES: positiveInt(1_048_576, 100 * 1_048_576),
  MCP_TOOLSETS: z.string().optional(),
  MCP_READ_ONLY: booleanSetting(true),
  MCP_PROGRESS_INTERVAL_SECONDS: positiveInt(5, 10),
  MCP_MAX_BACKEND_CALLS: positiveInt(16, 1000),
  MCP_BACKEND_QUEUE: positiveInt(32, 10_000),
  MCP_BACKEND_QUEUE_WAIT_SECONDS: positiveInt(10, 60),
  MCP_SHUTDOWN_SECONDS: positiveInt(DEFAULT_SHUTDOWN_SECONDS, MAX_SHUTDOWN_SECONDS),
  // Who may use which toolset (src/auth/grants.ts): `<toolset>=role:<r>|scope:<s>|group:<id>;…`.
  MCP_TOOLSET_GRANTS: z.string().optional(),
  // Per-caller token bucket for tools/call: sustained rate (0 = off) and burst.
  MCP_RATE_LIMIT_PER_MINUTE: wholeNumber(100_000),
  MCP_RATE_LIMIT_BURST: positiveInt(DEFAULT_RATE_LIMIT_BURST, 10_000),
  KEY_VAULT_URL: httpsUrl.optional(),
  AUDIT_FINGERPRINT_SECRET_NAME: z
    .string()
    .regex(/^[0-9A-Za-z-]{1,127}$/, 'must be a Key Vault secret name (letters, digits, dashes)')
    .optional(),
  SECRET_CACHE_TTL_SECONDS: positiveInt(3600, 86_400),
  APPLICATIONINSIGHTS_CONNECTION_STRING: z.string().optional(),
  AUDIT_SDK_STATS: booleanSetting(false),
  AZURE_CLIENT_ID: z.guid({ error: 'must be the client id (a GUID) of the user-assigned managed identity' }).optional(),
  IDENTITY_ENDPOINT: z.string().optional(),
  WEBSITE_AUTH_ENABLED: z.string().optional(),
};

const settingsSchema = z
  .object({
    ...generalSettingsShape,
    // KUSTO_* and every other toolset's own settings: src/toolsets/<name>/settings.ts.
    ...toolsetSettingsShape(Object.keys(generalSettingsShape)),
  })
  .superRefine((settings, ctx) => {
    for (const [name, value] of Object.entries(settings)) {
      if (typeof value === 'string' && !notUnresolvedReference(value)) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message:
            'is an unresolved Key Vault reference; grant the app identity "Key Vault Secrets User" on the vault and check the reference syntax',
        });
      }
    }
    if (settings.AUDIT_FINGERPRINT_SECRET_NAME && !settings.KEY_VAULT_URL) {
      ctx.addIssue({ code: 'custom', path: ['KEY_VAULT_URL'], message: 'is required when AUDIT_FINGERPRINT_SECRET_NAME is set' });
    }
    const connection = settings.APPLICATIONINSIGHTS_CONNECTION_STRING;
    if (connection && !/InstrumentationKey=[0-9a-f-]{36}(;|$)/.test(connection)) {
      ctx.addIssue({
        code: 'custom',
        path: ['APPLICATIONINSIGHTS_CONNECTION_STRING'],
        message: 'must contain InstrumentationKey=<lower-case GUID>',
      });
    }
    checkToolsetSettings(settings, ctx);
    const unknownToolsets = unknownToolsetsProblem(csv(settings.MCP_TOOLSETS));
    if (unknownToolsets) ctx.addIssue({ code: 'custom', path: ['MCP_TOOLSETS'], message: unknownToolsets });
    checkAuthSettings(settings, ctx);
    checkDownstreamSettings(settings, ctx);
    if (settings.MCP_TOOLSET_GRANTS?.trim()) {
      if (settings.MCP_AUTH_MODE !== 'entra' && settings.MCP_AUTH_MODE !== 'easyAuth') {
        ctx.addIssue({
          code: 'custom',
          path: ['MCP_TOOLSET_GRANTS'],
          message: `only applies when MCP_AUTH_MODE is entra or easyAuth; in ${settings.MCP_AUTH_MODE} mode nobody is identified and every enabled toolset is granted (leave it unset, or use MCP_TOOLSETS to turn toolsets off)`,
        });
      }
      for (const problem of parseToolsetGrants(settings.MCP_TOOLSET_GRANTS, TOOLSET_IDS).problems) {
        ctx.addIssue({ code: 'custom', path: ['MCP_TOOLSET_GRANTS'], message: problem });
      }
    }
    // Easy Auth's principal headers are only trustworthy where App Service authentication
    // sits in front and strips client-sent copies; anywhere else anyone could forge them.
    if (settings.MCP_AUTH_MODE === 'easyAuth' && (!settings.WEBSITE_SITE_NAME || settings.WEBSITE_AUTH_ENABLED?.toLowerCase() !== 'true')) {
      ctx.addIssue({
        code: 'custom',
        path: ['MCP_AUTH_MODE'],
        message: settings.WEBSITE_SITE_NAME
          ? 'is easyAuth but App Service authentication is not enabled on this app (WEBSITE_AUTH_ENABLED is not True); the endpoint would be open'
          : 'is easyAuth, which only works on App Service with authentication enabled; elsewhere principal headers could be forged. Use entra (or none on loopback)',
      });
    }
    // Run even when a field already failed, so one start-up error lists every bad setting.
  }, { when: () => true });

/** Every app setting this code reads (the deployment in infra/ must set or document each). */
export const SETTING_NAMES: readonly string[] = Object.keys(settingsSchema.shape);
/** Settings the platform provides (App Service / Functions); never set by a deployment. */
export const PLATFORM_SETTING_NAMES: readonly string[] = ['IDENTITY_ENDPOINT', 'WEBSITE_SITE_NAME', 'WEBSITE_AUTH_ENABLED'];

/** The settings every part of the app may read; the toolset modules' own are added to it in AppConfig. */
export interface GeneralConfig {
  authMode: AuthMode;
  /** Inbound authentication: the Entra API, the public URL, anonymous tools/list (src/auth/settings.ts). */
  auth: AuthSettings;
  /** Which identity each backend is called with, and the on-behalf-of exchange (src/azure/downstream-settings.ts). */
  downstream: DownstreamSettings;
  /** Exact origins allowed besides loopback ones; `*` is not accepted. */
  allowedOrigins: string[];
  maxBodyBytes: number;
  /** Toolset ids to expose; empty means each toolset's own default. */
  toolsets: ToolsetId[];
  readOnly: boolean;
  /** How often a running tool reports progress to a client that asked for it (at most 10 s). */
  progressIntervalMs: number;
  /** Per-instance cap on concurrent backend calls, and the queue in front of it. */
  backendLimits: { concurrency: number; queue: number; maxWaitMs: number };
  /** How long a graceful shutdown may take in all, from the signal to the last audit event written. */
  shutdownMs: number;
  /** Who may use which toolset, from MCP_TOOLSET_GRANTS (empty: the defaults of src/auth/grants.ts). */
  toolsetGrants: ToolsetGrants;
  /** Per-caller `tools/call` token bucket; `perMinute` 0 means off. */
  rateLimit: { perMinute: number; burst: number };
  keyVaultUrl: string | undefined;
  auditFingerprintSecretName: string | undefined;
  secretCacheTtlMs: number;
  appInsightsConnectionString: string | undefined;
  /** Let the Application Insights SDK send its own usage metrics (statsbeat, SDK stats). */
  auditSdkStats: boolean;
  /** Client id of the user-assigned managed identity, when one is used. */
  managedIdentityClientId: string | undefined;
  /** True when running on Azure (App Service / Functions) or an emulation of it. */
  hasManagedIdentityEndpoint: boolean;
  /** `WEBSITE_SITE_NAME`, set by the platform on Azure. */
  siteName: string | undefined;
}

/** The app's configuration: the general settings, and each toolset module's own as `config.<module name>` (e.g. `config.kusto`). */
export type AppConfig = GeneralConfig & ToolsetSettingsByModule;

/** A module named like a general key (`auth`, `toolsets`, …) would overwrite it: refused at compile time. */
type ModuleNameClash = Extract<keyof GeneralConfig, keyof ToolsetSettingsByModule>;
const moduleNamesAreFree: [ModuleNameClash] extends [never] ? true : never = true;
void moduleNamesAreFree;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates the settings; throws ConfigError naming every bad setting. */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const parsed = settingsSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || 'settings'} ${issue.message}`),
    );
  }
  const s = parsed.data;
  const origins = csv(s.MCP_ALLOWED_ORIGINS);
  if (origins.includes('*')) {
    throw new ConfigError(['MCP_ALLOWED_ORIGINS must list exact origins; "*" would defeat DNS-rebinding protection']);
  }
  return {
    authMode: s.MCP_AUTH_MODE,
    auth: authSettingsFrom(s),
    downstream: downstreamSettingsFrom(s, authSettingsFrom(s)),
    allowedOrigins: origins.map((origin) => origin.replace(/\/+$/, '').toLowerCase()),
    maxBodyBytes: s.MCP_MAX_BODY_BYTES,
    // Every id is known (checked above); the guard gives the type.
    toolsets: csv(s.MCP_TOOLSETS).filter(isToolsetId),
    readOnly: s.MCP_READ_ONLY,
    progressIntervalMs: s.MCP_PROGRESS_INTERVAL_SECONDS * 1000,
    backendLimits: { concurrency: s.MCP_MAX_BACKEND_CALLS, queue: s.MCP_BACKEND_QUEUE, maxWaitMs: s.MCP_BACKEND_QUEUE_WAIT_SECONDS * 1000 },
    shutdownMs: s.MCP_SHUTDOWN_SECONDS * 1000,
    toolsetGrants: parseToolsetGrants(s.MCP_TOOLSET_GRANTS, TOOLSET_IDS).grants,
    rateLimit: {
      // `none` admits only loopback callers (one developer, the sandbox, tests): no one to share with.
      perMinute: s.MCP_RATE_LIMIT_PER_MINUTE ?? (s.MCP_AUTH_MODE === 'none' ? 0 : DEFAULT_RATE_LIMIT_PER_MINUTE),
      burst: s.MCP_RATE_LIMIT_BURST,
    },
    keyVaultUrl: s.KEY_VAULT_URL,
    auditFingerprintSecretName: s.AUDIT_FINGERPRINT_SECRET_NAME,
    secretCacheTtlMs: s.SECRET_CACHE_TTL_SECONDS * 1000,
    appInsightsConnectionString: s.APPLICATIONINSIGHTS_CONNECTION_STRING || undefined,
    auditSdkStats: s.AUDIT_SDK_STATS,
    managedIdentityClientId: s.AZURE_CLIENT_ID,
    hasManagedIdentityEndpoint: Boolean(s.IDENTITY_ENDPOINT),
    siteName: s.WEBSITE_SITE_NAME || undefined,
    ...toolsetSettingsFrom(s),
  };
}

export interface LocalHostSettings {
  port: number;
  hostname: string;
  loopback: boolean;
  functionKey?: string;
}

/**
 * Whether this auth mode can run on the Node host with these settings; the
 * message says what to change. `none` admits anyone, so only on loopback;
 * `functionKey` needs the key to check (on Azure the Functions host checks it).
 */
export function nodeHostAuthProblem(authMode: AuthMode, host: LocalHostSettings): string | undefined {
  if (authMode === 'none' && !host.loopback) {
    return `MCP_AUTH_MODE is none, which admits anyone: allowed only when HOST is loopback (127.0.0.1, ::1, localhost), not ${host.hostname}. Use entra, or functionKey with MCP_FUNCTION_KEY.`;
  }
  if (authMode === 'functionKey' && !host.functionKey) {
    return 'MCP_AUTH_MODE is functionKey (the default), but this Node host has no key to check: set MCP_FUNCTION_KEY to the key clients send (x-functions-key header or ?code=), or use MCP_AUTH_MODE=none on loopback, or entra.';
  }
  return undefined;
}

/** PORT and HOST for the local Node host; loopback by default. */
export function loadLocalHostSettings(env: Record<string, string | undefined> = process.env): LocalHostSettings {
  const parsed = z
    .object({
      // 0 asks the OS for a free port (tests); the chosen URL is printed at start.
      PORT: z
        .string()
        .optional()
        .transform((value, ctx) => {
          const port = value === undefined || value.trim() === '' ? 7071 : Number(value);
          if (Number.isInteger(port) && port >= 0 && port <= 65_535) return port;
          ctx.addIssue({ code: 'custom', message: 'must be a whole number from 0 to 65535' });
          return z.NEVER;
        }),
      HOST: z.string().min(1).default('127.0.0.1'),
      // functionKey mode on this host: the key callers send. A local setting (the Node host is for
      // development); on Azure the Functions host checks keys and this is never set.
      MCP_FUNCTION_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
    })
    .safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`));
  }
  const hostname = parsed.data.HOST;
  return {
    port: parsed.data.PORT,
    hostname,
    loopback: ['127.0.0.1', 'localhost', '::1'].includes(hostname),
    ...(parsed.data.MCP_FUNCTION_KEY && { functionKey: parsed.data.MCP_FUNCTION_KEY }),
  };
}
