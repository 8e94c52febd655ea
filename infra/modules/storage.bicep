// Host storage for the Functions runtime and the Flex Consumption deployment
// package. Keys are turned off: the host and the deployment both sign in with
// the app's managed identity (AzureWebJobsStorage__credential=managedidentity).

import { builtInRoleIds } from 'role-ids.bicep'

@description('Storage account name (3 to 24 lower-case letters and digits, globally unique).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags for the account.')
param tags object

@description('Blob container that holds the deployment package (Flex Consumption functionAppConfig.deployment).')
param deploymentContainerName string

@description('Principal (object) id of the app\'s managed identity; gets Storage Blob Data Owner on this account.')
param identityPrincipalId string

@description('True when the app reaches storage through a private endpoint: public network access is then off.')
param privateNetworking bool

@description('Log Analytics workspace for blob write and delete logs; empty for no diagnostic setting.')
param diagnosticsWorkspaceId string

var privateNetworkAcls = {
  defaultAction: 'Deny'
  bypass: 'None'
}
var publicNetworkAcls = {
  defaultAction: 'Allow'
  bypass: 'AzureServices'
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    // No account keys and no SAS signed with them: Entra ID only.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    dnsEndpointType: 'Standard'
    publicNetworkAccess: privateNetworking ? 'Disabled' : 'Enabled'
    // Private: nothing but the private endpoint. Public: Entra ID still required for every call.
    networkAcls: privateNetworking ? privateNetworkAcls : publicNetworkAcls
  }

  resource blobService 'blobServices' = {
    name: 'default'
    properties: {
      // Function keys live in blobs (azure-webjobs-secrets): keep deleted ones for a week.
      deleteRetentionPolicy: {
        enabled: true
        days: 7
      }
      containerDeleteRetentionPolicy: {
        enabled: true
        days: 7
      }
    }

    resource deploymentContainer 'containers' = {
      name: deploymentContainerName
      properties: {
        publicAccess: 'None'
      }
    }
  }
}

// The Functions host needs blob data rights on the whole account (its own
// containers for keys and leases), and the platform writes the deployment
// package with the same identity. No queue or table roles: HTTP-only app.
resource blobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identityPrincipalId, builtInRoleIds.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoleIds.storageBlobDataOwner)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (!empty(diagnosticsWorkspaceId)) {
  name: 'to-log-analytics'
  scope: storage::blobService
  properties: {
    workspaceId: diagnosticsWorkspaceId
    logs: [
      {
        category: 'StorageWrite'
        enabled: true
      }
      {
        category: 'StorageDelete'
        enabled: true
      }
    ]
  }
}

@description('Resource id of the storage account.')
output id string = storage.id

@description('Name of the storage account.')
output name string = storage.name

@description('Blob endpoint, e.g. https://<account>.blob.core.windows.net/ (no credential in it).')
output blobEndpoint string = storage.properties.primaryEndpoints.blob
