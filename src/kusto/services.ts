import { randomUUID } from 'node:crypto';
import type { CredentialProvider } from '../azure/credential.ts';
import type { KustoSettings } from '../config.ts';
import type { Limiter } from '../core/limiter.ts';
import { createKustoGateway, type KustoGateway } from './gateway.ts';
import { createSchemaCache, type SchemaCache } from './schema-cache.ts';

/** What the Kusto tools get injected (see ToolServices). */
export interface KustoServices {
  settings: KustoSettings;
  gateway: KustoGateway;
  schemas: SchemaCache;
  appName: string;
  /** `<app>.<purpose>;<uuid>`: the id Kusto logs, we audit, and `.cancel query` takes. */
  newRequestId(purpose: string): string;
}

export function createKustoServices(
  settings: KustoSettings,
  credential: CredentialProvider,
  appName: string,
  limiter: Limiter,
  background?: (work: Promise<unknown>) => void,
): KustoServices {
  const newRequestId = (purpose: string) => `${appName}.${purpose};${randomUUID()}`;
  const gateway = createKustoGateway({ credential, clusters: settings.clusters, appName, limiter, ...(background && { background }) });
  return {
    settings,
    gateway,
    schemas: createSchemaCache({ gateway, ttlMs: settings.schemaCacheTtlMs, newRequestId }),
    appName,
    newRequestId,
  };
}
