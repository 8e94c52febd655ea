import packageJson from '../package.json' with { type: 'json' };
import type { AppConfig } from './config.ts';
import { createAuditor, type Auditor } from './audit/auditor.ts';
import { createAppInsightsAuditSink } from './audit/appinsights-sink.ts';
import type { AuditSink } from './audit/events.ts';
import { createStdoutAuditSink } from './audit/stdout-sink.ts';
import { createCredentialProvider, type CredentialProvider } from './azure/credential.ts';
import { createSecretProvider, keyVaultSecretReader, type SecretProvider } from './azure/secrets.ts';
import { managedIdentityDownstream, onBehalfOfDownstream, type DownstreamIdentities } from './azure/downstream-identity.ts';
import { createOnBehalfOfCredentials } from './azure/on-behalf-of.ts';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/server/validators/ajv';
import { createDrain, shutdownPlan, type ShutdownPlan } from './core/drain.ts';
import { protectedResourceSettingsFrom } from './auth/protected-resource.ts';
import { facadeFromSettings } from './auth/facade/from-config.ts';
import { createAuthenticator } from './core/authenticate.ts';
import { createGrantPolicy } from './auth/grants.ts';
import { createGrantedTools } from './core/granted-tools.ts';
import { createRateLimiter } from './core/rate-limit.ts';
import { createMcpHandler, type FetchHandler } from './core/handler.ts';
import { createInflightRegistry } from './core/inflight.ts';
import { createLimiter } from './core/limiter.ts';
import { createServerFactory } from './core/mcp-server.ts';
import { createToolCallRunner } from './core/tool-call.ts';
import { ALL_TOOLS, buildToolCatalog } from './tools/catalog.ts';
import type { ServerFacts, ToolDefinition } from './tools/define-tool.ts';
import { TOOLSET_IDS } from './toolsets/registry.ts';
import { createToolsetServices, unavailableToolsets } from './toolsets/services.ts';

export const SERVER_NAME = 'azure-mcp-functions';
export const SERVER_VERSION: string = packageJson.version;

export interface App {
  fetch: FetchHandler;
  auditor: Auditor;
  /** Delivers every pending audit event (by `deadline`, epoch ms, when given), then releases resources. */
  close(deadline?: number): Promise<void>;
  /** The times of a shutdown starting at `now`, from `MCP_SHUTDOWN_SECONDS`. */
  shutdownPlan(now?: number): ShutdownPlan;
  /**
   * Shutdown, first part: from now on new requests get 503 (`Connection: close`,
   * `Retry-After`) and health reports 503; running tool calls have until
   * `plan.graceUntil`, then they are aborted (audited as `shutdown`, a Kusto
   * query cancelled on the cluster). Resolves by `plan.settleUntil`.
   */
  drain(plan: ShutdownPlan): Promise<void>;
  /** The whole shutdown within `MCP_SHUTDOWN_SECONDS`: drain, then close by the deadline (Functions `appTerminate`). */
  shutdown(): Promise<void>;
}

/** Replaceable parts, for tests that exercise one piece in isolation. */
export interface AppOverrides {
  auditSink?: AuditSink;
  credential?: CredentialProvider;
  /** The Node host's `functionKey` check (MCP_FUNCTION_KEY, a local-host setting; on Azure the Functions host checks keys). */
  functionKey?: string;
  /** The tools the product has (default: all); tests add probes of the protocol edge here. */
  tools?: readonly ToolDefinition[];
}

/** What the model is told about this server; only what is true in this deployment. */
function instructionsFor(authMode: AppConfig['authMode']): string {
  const who =
    authMode === 'entra' || authMode === 'easyAuth'
      ? 'Every tool call is audited with the identity of the signed-in caller.'
      : authMode === 'functionKey'
        ? 'Every tool call is audited; callers are admitted by a shared Functions key, so calls are not attributed to a person.'
        : 'Every tool call is audited; this local server admits any caller on this machine, so calls are not attributed to a person.';
  return `Governed access to Azure data for this organization. ${who} Call server_info_get to see which tools are enabled and how the server sees you.`;
}

/** Keep-alive comments on event streams, below the idle timeouts of common proxies. */
const SSE_KEEP_ALIVE_MS = 10_000;
/** The cache hint on the tool list: it changes only with a deployment or a settings change. */
const TOOLS_LIST_TTL_MS = 5 * 60_000;

/**
 * The composition root: builds everything a request needs from the config,
 * once. Nothing here touches the network; Azure SDKs load on first use.
 */
export function createApp(config: AppConfig, overrides: AppOverrides = {}): App {
  const credential = overrides.credential ?? createCredentialProvider(config);
  const secrets: SecretProvider | undefined = config.keyVaultUrl
    ? createSecretProvider({ read: keyVaultSecretReader(config.keyVaultUrl, credential), ttlMs: config.secretCacheTtlMs })
    : undefined;
  const sink =
    overrides.auditSink ??
    (config.appInsightsConnectionString
      ? createAppInsightsAuditSink({
          connectionString: config.appInsightsConnectionString,
          sdkStats: config.auditSdkStats,
          roleName: config.siteName ?? SERVER_NAME,
          version: SERVER_VERSION,
          managedIdentityClientId: config.managedIdentityClientId,
          hasManagedIdentityEndpoint: config.hasManagedIdentityEndpoint,
        })
      : createStdoutAuditSink());
  const fingerprintSecret = config.auditFingerprintSecretName;
  const auditor = createAuditor({
    sink,
    ...(secrets && fingerprintSecret && { fingerprintKey: () => secrets.get(fingerprintSecret) }),
  });
  // Each toolset module's own rule, e.g. no Kusto cluster configured (src/toolsets/<name>/module.ts).
  const unavailable = unavailableToolsets(config);
  const catalog = buildToolCatalog({ toolsets: config.toolsets, readOnly: config.readOnly, unavailable }, overrides.tools ?? ALL_TOOLS);
  // Who may call which of the enabled tools (MCP_TOOLSET_GRANTS and the defaults, src/auth/grants.ts).
  const granted = createGrantedTools(
    catalog,
    createGrantPolicy({
      authMode: config.authMode,
      toolsets: TOOLSET_IDS,
      grants: config.toolsetGrants,
      requiredScope: config.auth.entra?.requiredScope,
      appRole: config.auth.entra?.appRole,
    }),
  );
  const server: ServerFacts = {
    name: SERVER_NAME,
    version: SERVER_VERSION,
    authMode: config.authMode,
    readOnly: config.readOnly,
    toolsets: catalog.toolsets,
    toolNames: [...catalog.enabled.keys()],
    ...(granted.policy.dependsOnCaller && { toolNamesFor: (caller) => granted.names(caller) }),
  };
  // One cap for every backend of this instance: what bounds memory is the calls in flight, whichever service they go to.
  const backendLimiter = createLimiter(config.backendLimits);
  const drain = createDrain();
  // Who each backend sees: the app's managed identity, or the caller through on-behalf-of (one token cache for all backends).
  const onBehalfOf = config.downstream.onBehalfOf && createOnBehalfOfCredentials({ ...config.downstream.onBehalfOf, managedIdentity: credential, secrets });
  const downstreamFor = (mode: 'managedIdentity' | 'onBehalfOf'): DownstreamIdentities => {
    if (mode === 'managedIdentity') return managedIdentityDownstream(credential);
    if (!onBehalfOf) throw new Error('on-behalf-of is configured for a backend but ENTRA_TENANT_ID / ENTRA_API_CLIENT_ID are missing');
    return onBehalfOfDownstream(onBehalfOf);
  };
  const servicesFor = createToolsetServices(config, {
    config,
    appName: SERVER_NAME,
    credential,
    secrets,
    backendLimiter,
    downstream: downstreamFor,
    background: (work) => drain.track(work),
  });
  const createServer = createServerFactory({
    info: { name: SERVER_NAME, title: 'Azure MCP Functions', version: SERVER_VERSION },
    instructions: instructionsFor(config.authMode),
    tools: catalog.descriptors,
    granted,
    // `public` while the list is the same for everyone; per caller it goes out `private` (src/core/mcp-server.ts).
    toolsListCache: { ttlMs: TOOLS_LIST_TTL_MS, cacheScope: 'public' },
    runTool: createToolCallRunner({ catalog, servicesFor, auditor, server, progressIntervalMs: config.progressIntervalMs, drain, granted }),
    jsonSchemaValidator: new AjvJsonSchemaValidator(),
  });
  const auth = config.auth;
  const oauthFacade = facadeFromSettings(auth, { credential, secrets, auditor });
  const protectedResource =
    auth.mode === 'entra' && auth.entra && auth.publicUrl ? protectedResourceSettingsFrom(auth.entra, auth.publicUrl, 'Azure MCP Functions', oauthFacade?.issuer) : undefined;
  const fetch = createMcpHandler({
    authMode: config.authMode,
    authenticate: createAuthenticator(auth, { ...(overrides.functionKey && { functionKey: overrides.functionKey }) }),
    ...(protectedResource && { protectedResource }),
    ...(oauthFacade && { oauthFacade }),
    allowAnonymousToolsList: auth.allowAnonymousToolsList,
    allowedOrigins: config.allowedOrigins,
    maxBodyBytes: config.maxBodyBytes,
    keepAliveMs: SSE_KEEP_ALIVE_MS,
    createServer,
    inflight: createInflightRegistry(),
    auditor,
    server,
    drain,
    ...(config.rateLimit.perMinute > 0 && { rateLimit: createRateLimiter(config.rateLimit) }),
  });
  const close = async (deadline?: number) => {
    await auditor.flush(deadline);
    await sink.close(deadline);
  };
  const drainCalls = async (plan: ShutdownPlan) => {
    const { aborted, unsettled } = await drain.settle(plan);
    if (aborted > 0 || unsettled > 0) {
      process.stderr.write(`shutdown: ${aborted} tool call(s) still running at the end of the grace were stopped${unsettled > 0 ? `; ${unsettled} had not ended by the deadline` : ''}\n`);
    }
  };
  return {
    fetch,
    auditor,
    close,
    shutdownPlan: (now = Date.now()) => shutdownPlan(now, config.shutdownMs),
    drain: drainCalls,
    async shutdown() {
      const plan = shutdownPlan(Date.now(), config.shutdownMs);
      await drainCalls(plan);
      await close(plan.deadline);
    },
  };
}
