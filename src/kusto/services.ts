import { randomUUID } from 'node:crypto';
import type { Principal } from '../auth/principal.ts';
import type { CredentialProvider } from '../azure/credential.ts';
import { managedIdentityDownstream, type DownstreamIdentities, type DownstreamIdentity } from '../azure/downstream-identity.ts';
import type { KustoSettings } from '../toolsets/kusto/settings.ts';
import type { Limiter } from '../core/limiter.ts';
import type { KustoCluster } from './clusters.ts';
import type { KustoTable, QueryResult } from './frames.ts';
import { createKustoGateway, type KustoCommandRequest, type KustoGateway, type KustoQueryRequest } from './gateway.ts';
import { createSchemaCache, tableRowCounts, type DatabaseSchema, type SchemaCache } from './schema-cache.ts';

/**
 * What the Kusto tools get injected (`ctx.services`, src/toolsets/kusto/module.ts). There is no client
 * bound at start-up: a tool asks for the Kusto access of its own call,
 * `kusto.session(ctx.caller)`, which sends every request as the call's
 * downstream identity (the app's managed identity, or the caller through
 * on-behalf-of, per `KUSTO_IDENTITY`) and reads schemas from that
 * identity's part of the cache.
 */
export interface KustoServices {
  settings: KustoSettings;
  appName: string;
  /** `<app>.<purpose>;<uuid>`: the id Kusto logs, we audit, and `.cancel query` takes. */
  newRequestId(purpose: string): string;
  /** The Kusto access of one call. Throws OnBehalfOfError in on-behalf-of mode when there is no user to act for. */
  session(caller: Principal): KustoSession;
}

/** One call's Kusto access: everything goes out as `identity`. */
export interface KustoSession {
  readonly identity: DownstreamIdentity;
  query(request: Omit<KustoQueryRequest, 'identity'>): Promise<QueryResult>;
  command(request: Omit<KustoCommandRequest, 'identity'>): Promise<KustoTable[]>;
  /** The schema as this identity sees it. */
  schema(cluster: KustoCluster, database: string): Promise<DatabaseSchema>;
  /** Checks the schema version now (after a name was not found). */
  refreshSchema(cluster: KustoCluster, database: string): Promise<DatabaseSchema>;
  /** Row counts per table from `.show tables details`. */
  tableRowCounts(cluster: KustoCluster, database: string, clientRequestId: string): Promise<Map<string, number>>;
}

export interface KustoServicesOptions {
  /** Who Kusto sees (default: the app's managed identity, `credential`). */
  identities?: DownstreamIdentities;
  /** Told of work that outlives its call (a `.cancel query`). */
  background?: (work: Promise<unknown>) => void;
}

export function createKustoServices(
  settings: KustoSettings,
  credential: CredentialProvider,
  appName: string,
  limiter: Limiter,
  optionsOrBackground?: KustoServicesOptions | ((work: Promise<unknown>) => void),
): KustoServices {
  const options: KustoServicesOptions = typeof optionsOrBackground === 'function' ? { background: optionsOrBackground } : (optionsOrBackground ?? {});
  const identities = options.identities ?? managedIdentityDownstream(credential);
  const newRequestId = (purpose: string) => `${appName}.${purpose};${randomUUID()}`;
  const gateway = createKustoGateway({ clusters: settings.clusters, appName, limiter, ...(options.background && { background: options.background }) });
  const schemas = createSchemaCache({ gateway, ttlMs: settings.schemaCacheTtlMs, newRequestId });
  return {
    settings,
    appName,
    newRequestId,
    session: (caller) => kustoSession(gateway, schemas, identities.for(caller)),
  };
}

/** A session over a gateway and schema cache, for one identity (also what tests build directly). */
export function kustoSession(gateway: KustoGateway, schemas: SchemaCache, identity: DownstreamIdentity): KustoSession {
  return {
    identity,
    query: (request) => gateway.query({ ...request, identity }),
    command: (request) => gateway.command({ ...request, identity }),
    schema: (cluster, database) => schemas.get(identity, cluster, database),
    refreshSchema: (cluster, database) => schemas.refresh(identity, cluster, database),
    tableRowCounts: (cluster, database, clientRequestId) => tableRowCounts(gateway, identity, cluster, database, clientRequestId),
  };
}
