// Optional: Viewer on chosen databases of an existing Azure Data Explorer
// cluster, for the app's managed identity. Deployed into the cluster's own
// resource group; the deployer needs AllDatabasesAdmin (or Admin on each
// database), which is why this is off by default. Viewer reads data and
// schema and nothing else; the server adds read-only request properties on
// top (docs/kusto.md). Fabric Eventhouse has no ARM resource: grant there
// with a `.add database <db> viewers ('aadapp=<client id>;<tenant id>')`.

@description('Name of the existing Kusto cluster (in this resource group).')
param clusterName string

@description('Databases on which the identity becomes Viewer.')
param databaseNames array

@description('Client (application) id of the app\'s managed identity: Kusto names app principals by client id.')
param identityClientId string

resource cluster 'Microsoft.Kusto/clusters@2024-04-13' existing = {
  name: clusterName
}

resource viewers 'Microsoft.Kusto/clusters/databases/principalAssignments@2024-04-13' = [
  for database in databaseNames: {
    // Kusto assignment names are free text; a guid keeps re-deployments idempotent.
    name: '${clusterName}/${database}/${guid(cluster.id, database, identityClientId, 'Viewer')}'
    properties: {
      principalId: identityClientId
      principalType: 'App'
      role: 'Viewer'
      tenantId: tenant().tenantId
    }
  }
]

@description('The cluster\'s query URI, e.g. https://<cluster>.<region>.kusto.windows.net (for KUSTO_CLUSTERS).')
output clusterUri string = cluster.properties.uri
