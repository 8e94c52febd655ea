import { createKustoServices } from '../../kusto/services.ts';
import { defineToolsetModule } from '../define-toolset.ts';
import { kustoListClusters } from './list-clusters.ts';
import { kustoListDatabases } from './list-databases.ts';
import { kustoListTables } from './list-tables.ts';
import { kustoQuery } from './query.ts';
import { kustoSample } from './sample.ts';
import { kustoSchemaContext } from './schema-context.ts';
import { kustoSettings } from './settings.ts';
import { kustoTableSchema } from './table-schema.ts';

/** Azure Data Explorer / Fabric Eventhouse, on the clusters of KUSTO_CLUSTERS only (docs/kusto.md). */
export const kustoModule = defineToolsetModule({
  name: 'kusto',
  settings: kustoSettings,
  unavailable: (settings) => (settings.clusters.length === 0 ? 'no Kusto cluster is configured on this server (KUSTO_CLUSTERS)' : undefined),
  services: (settings, deps) =>
    createKustoServices(settings, deps.credential, deps.appName, deps.backendLimiter, {
      identities: deps.downstream(deps.config.downstream.kusto),
      background: deps.background,
    }),
  toolsets: [
    {
      id: 'kusto',
      description: 'Azure Data Explorer / Fabric Eventhouse: discover databases, tables and schemas, sample, and run read-only KQL with budgets.',
      enabledByDefault: true,
      tools: [kustoListClusters, kustoListDatabases, kustoListTables, kustoTableSchema, kustoSchemaContext, kustoSample, kustoQuery],
    },
  ],
});
