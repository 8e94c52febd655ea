// The Flex Consumption plan and the Linux function app that hosts the MCP
// server (Node 22), with every app setting it runs with.
//
// App settings are built from variables whose names end in "Settings" (here
// and in main.bicep); test/infra/bicep.test.ts reads their keys and checks
// them against the settings the code reads (src/config.ts).

@description('Function app name (globally unique host name <name>.azurewebsites.net).')
param name string

@description('Flex Consumption plan name.')
param planName string

@description('Azure region.')
param location string

@description('Tags for the plan and the app.')
param tags object

@description('azd service name (azure.yaml); set as the app\'s azd-service-name tag so `azd deploy` finds it.')
param serviceName string

@description('Resource id of the user-assigned managed identity.')
param identityId string

@description('Client id of the user-assigned managed identity.')
param identityClientId string

@description('Name of the host storage account (in this resource group).')
param storageAccountName string

@description('Blob container for the deployment package.')
param deploymentContainerName string

@description('Name of the Application Insights component (in this resource group).')
param appInsightsName string

@description('Key Vault URI for KEY_VAULT_URL.')
param keyVaultUri string

@description('The server\'s own settings (built in main.bicep); platform and resource settings are added here.')
param appSettings object

@description('MCP_AUTH_MODE: functionKey or easyAuth (easyAuth also configures App Service authentication here).')
@allowed([
  'functionKey'
  'easyAuth'
])
param authMode string

@description('Client id of the Entra app registration Easy Auth validates tokens for; used only when authMode is easyAuth.')
param entraClientId string

@description('Client ids of MCP clients whose tokens Easy Auth accepts (besides the app itself).')
param allowedClientApplications array

@description('Upper bound on instances the platform may scale out to.')
param maximumInstanceCount int

@description('Memory per instance in MB (CPU scales with it).')
param instanceMemoryMB int

@description('Concurrent HTTP requests one instance takes before the platform adds instances.')
param httpPerInstanceConcurrency int

@description('Instances kept warm for HTTP (billed while idle); 0 for none.')
param alwaysReadyInstanceCount int

@description('Subnet for outbound VNet integration; empty for none.')
param virtualNetworkSubnetId string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

// Host storage through the identity (no AzureWebJobsStorage connection
// string), host telemetry through the identity, and a loud failure when the
// entry point throws (a bad setting stops the app instead of serving nothing).
// Flex Consumption rejects FUNCTIONS_WORKER_RUNTIME / FUNCTIONS_EXTENSION_VERSION:
// the runtime is functionAppConfig.runtime below.
var hostSettings = {
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  FUNCTIONS_NODE_BLOCK_ON_ENTRY_POINT_ERROR: 'true'
}

// Settings the server reads that come from the resources of this deployment.
// The connection string carries no secret: with local auth off, ingestion
// needs an Entra token for the identity.
var resourceSettings = {
  AZURE_CLIENT_ID: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
  KEY_VAULT_URL: keyVaultUri
}

// App Service authentication (Easy Auth) signs in with the managed identity
// as the app's client credential (federated identity credential, no secret)
// and publishes protected resource metadata for MCP clients (preview). Without
// an Entra app it stays off, and the server refuses to start in easyAuth mode
// (it checks WEBSITE_AUTH_ENABLED), rather than running with a broken gate.
var easyAuthEnabled = authMode == 'easyAuth' && !empty(entraClientId)

var easyAuthSettings = easyAuthEnabled ? {
  OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID: identityClientId
  WEBSITE_AUTH_AAD_ALLOWED_TENANTS: tenant().tenantId
  WEBSITE_AUTH_PRM_DEFAULT_WITH_SCOPES: 'api://${entraClientId}/user_impersonation'
} : {}

// Warm instances for the HTTP trigger group, when asked for.
var alwaysReady = [
  {
    name: 'http'
    instanceCount: alwaysReadyInstanceCount
  }
]

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Stateless: any instance serves any request, so no affinity cookie.
    clientAffinityEnabled: false
    publicNetworkAccess: 'Enabled'
    // Key Vault references in settings resolve with the same identity.
    keyVaultReferenceIdentity: identityId
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        alwaysReady: alwaysReadyInstanceCount > 0 ? alwaysReady : []
        triggers: {
          http: {
            perInstanceConcurrency: httpPerInstanceConcurrency
          }
        }
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
    siteConfig: {
      alwaysOn: false
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
  }
}

// No FTP and no basic-auth publishing: deployments authenticate with Entra ID.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

resource authSettings 'Microsoft.Web/sites/config@2024-04-01' = if (easyAuthEnabled) {
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
      runtimeVersion: '~1'
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
      // The health probe stays anonymous (it returns name, version and status only).
      excludedPaths: [
        '/health'
      ]
    }
    httpSettings: {
      requireHttps: true
      forwardProxy: {
        convention: 'NoProxy'
      }
      routes: {
        apiPrefix: '/.auth'
      }
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
          clientId: entraClientId
          clientSecretSettingName: 'OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID'
        }
        validation: {
          // v2 tokens carry the client id as audience, v1 tokens the identifier URI.
          allowedAudiences: [
            entraClientId
            'api://${entraClientId}'
          ]
          defaultAuthorizationPolicy: {
            allowedApplications: union([entraClientId], allowedClientApplications)
          }
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
  }
}

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  // Template settings win over caller-supplied ones.
  properties: union(appSettings, hostSettings, resourceSettings, easyAuthSettings)
  // In easyAuth mode the server refuses to start until authentication is on.
  dependsOn: [
    authSettings
  ]
}

@description('Function app name.')
output name string = site.name

@description('Default host name, e.g. <name>.azurewebsites.net.')
output defaultHostName string = site.properties.defaultHostName

@description('Resource id of the function app.')
output id string = site.id
