import packageJson from '../package.json' with { type: 'json' };
import type { AppConfig } from './config.ts';
import { createAuditor, type Auditor } from './audit/auditor.ts';
import { createAppInsightsAuditSink } from './audit/appinsights-sink.ts';
import type { AuditSink } from './audit/events.ts';
import { createStdoutAuditSink } from './audit/stdout-sink.ts';
import { createCredentialProvider, type CredentialProvider } from './azure/credential.ts';
import { createSecretProvider, keyVaultSecretReader, type SecretProvider } from './azure/secrets.ts';
import { createDispatcher } from './core/dispatch.ts';
import { createMcpHandler, type FetchHandler } from './core/handler.ts';
import { buildToolCatalog } from './tools/catalog.ts';
import { createKustoServices } from './kusto/services.ts';
import type { ServerFacts } from './tools/define-tool.ts';
import type { ToolServices } from './tools/services.ts';

export const SERVER_NAME = 'azure-mcp-functions';
export const SERVER_VERSION: string = packageJson.version;

export interface App {
  fetch: FetchHandler;
  auditor: Auditor;
  /** Delivers every pending audit event, then releases resources. */
  close(): Promise<void>;
}

/** Replaceable parts, for tests that exercise one piece in isolation. */
export interface AppOverrides {
  auditSink?: AuditSink;
  credential?: CredentialProvider;
}

const INSTRUCTIONS =
  'Governed, audited access to Azure data for this organization. Every call is logged with the caller identity. ' +
  'Call server_info_get to see which tools are enabled and how the server sees you.';

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
          diskRetry: config.auditDiskRetry,
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
  const unavailable = new Map<string, string>();
  if (config.kusto.clusters.length === 0) unavailable.set('kusto', 'no Kusto cluster is configured on this server (KUSTO_CLUSTERS)');
  const catalog = buildToolCatalog({ toolsets: config.toolsets, readOnly: config.readOnly, unavailable });
  const server: ServerFacts = {
    name: SERVER_NAME,
    version: SERVER_VERSION,
    authMode: config.authMode,
    readOnly: config.readOnly,
    toolsets: catalog.toolsets,
    toolNames: [...catalog.enabled.keys()],
  };
  const services: ToolServices = {
    ...(secrets && { secrets }),
    ...(config.kusto.clusters.length > 0 && { kusto: createKustoServices(config.kusto, credential, SERVER_NAME) }),
  };
  const dispatcher = createDispatcher({ catalog, services, auditor, server, instructions: INSTRUCTIONS });
  const fetch = createMcpHandler({
    authMode: config.authMode,
    allowedOrigins: config.allowedOrigins,
    maxBodyBytes: config.maxBodyBytes,
    dispatcher,
    auditor,
    server,
  });
  return {
    fetch,
    auditor,
    async close() {
      await auditor.flush();
      await sink.close();
    },
  };
}
