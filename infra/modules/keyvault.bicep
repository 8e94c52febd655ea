// The vault for the secrets the app reads at run time (today: the audit
// fingerprint key). Access is Azure RBAC only (no access policies); deleted
// secrets and the vault itself stay recoverable, and purge protection means
// nobody, not even an owner, can destroy them before the retention ends.

import { builtInRoleIds } from 'role-ids.bicep'

@description('Vault name (3 to 24 letters, digits and dashes, globally unique).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags for the vault.')
param tags object

@description('Principal (object) id of the app\'s managed identity; gets Key Vault Secrets User on this vault.')
param identityPrincipalId string

@description('Days a deleted vault or secret stays recoverable (7 to 90).')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int

@description('True when the app reaches the vault through a private endpoint: public network access is then off.')
param privateNetworking bool

@description('Log Analytics workspace for the vault\'s audit log; empty for no diagnostic setting.')
param diagnosticsWorkspaceId string

@secure()
@description('Value of the OAuth facade\'s sealing key to create (secret oauth-facade-key); empty to leave the secret alone.')
param oauthFacadeKeyValue string = ''

@secure()
@description('Value of the Graph cursor key to create (secret graph-cursor-key); empty to leave the secret alone.')
param graphCursorKeyValue string = ''

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    enablePurgeProtection: true
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: privateNetworking ? 'Disabled' : 'Enabled'
    networkAcls: {
      defaultAction: privateNetworking ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
    }
  }
}

// Read secret values only: not list-and-manage (Officer), not keys or certificates.
resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identityPrincipalId, builtInRoleIds.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoleIds.keyVaultSecretsUser)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource vaultDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (!empty(diagnosticsWorkspaceId)) {
  name: 'to-log-analytics'
  scope: vault
  properties: {
    workspaceId: diagnosticsWorkspaceId
    // Resource-specific table (AZKVAuditLogs) rather than AzureDiagnostics.
    logAnalyticsDestinationType: 'Dedicated'
    logs: [
      {
        // Who read or changed which secret, when.
        categoryGroup: 'audit'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

@description('Resource id of the vault.')
output id string = vault.id

@description('Name of the vault.')
output name string = vault.name

@description('Vault URI, e.g. https://<vault>.vault.azure.net/ (KEY_VAULT_URL for the app).')
output uri string = vault.properties.vaultUri

// The sign-in facade's sealing keys (src/auth/facade/sealed.ts), created once; rotate by setting `<new> <old>`.
resource oauthFacadeKey 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(oauthFacadeKeyValue)) {
  parent: vault
  name: 'oauth-facade-key'
  properties: {
    value: oauthFacadeKeyValue
    contentType: 'MCP OAuth facade sealing keys, space-separated; the first seals'
  }
}

// The HMAC key of Graph continuation cursors (src/graph/cursor.ts), created once and shared by every instance.
resource graphCursorKey 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(graphCursorKeyValue)) {
  parent: vault
  name: 'graph-cursor-key'
  properties: {
    value: graphCursorKeyValue
    contentType: 'MCP Graph cursor HMAC key'
  }
}
