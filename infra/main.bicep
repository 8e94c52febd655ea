// One deployment for the MCP server: `azd up`, or
//   az deployment sub create --location <region> --template-file infra/main.bicep --parameters infra/main.bicepparam
// (docs/deploy.md). Subscription scope: it creates (or updates) the resource
// group, so one command stands the whole thing up and `azd down` removes it.
//
// Everything authenticates with one user-assigned managed identity; no key,
// connection string with a key, or secret appears in settings or outputs.
// Options that need Entra or tenant-admin rights (app registration, Graph
// permissions, Kusto database role) are off by default.
targetScope = 'subscription'

// ---------------------------------------------------------------------------
// Core

@description('azd environment name (AZURE_ENV_NAME); names and tags derive from it.')
@minLength(1)
@maxLength(64)
param environmentName string

@description('Azure region for every resource (one where Flex Consumption is available).')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Resource group to create or update; empty for rg-<environmentName>.')
param resourceGroupName string = ''

@description('Function app name (becomes <name>.azurewebsites.net); empty for a generated unique name.')
param functionAppName string = ''

@description('Extra tags for every resource.')
param tags object = {}

// ---------------------------------------------------------------------------
// Scale (Flex Consumption). The server is stateless, so the platform adds
// instances when each one has httpPerInstanceConcurrency requests in flight,
// up to maximumInstanceCount. See docs/deploy.md "Scale-out and limits".

@description('Maximum instances the platform may scale out to; also caps the load the server can put on Kusto (instances x per-instance concurrency).')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory per instance in MB; CPU and network scale with it.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('HTTP requests one instance serves at once before the platform scales out. 16 fits the 2048 MB default: about 160 MB at rest, and a worst-case default-budget Kusto call is bounded by the result budgets (the engine answer is capped at 16 MiB). Keep it at or below maxBackendCalls, so the server\'s own queue only absorbs bursts.')
@minValue(1)
@maxValue(1000)
param httpPerInstanceConcurrency int = 16

@description('Instances kept warm for HTTP (no cold start; billed while idle). 0 for none.')
@minValue(0)
@maxValue(20)
param alwaysReadyInstanceCount int = 0

// ---------------------------------------------------------------------------
// Server settings (src/config.ts; README "Configuration")

@description('MCP_AUTH_MODE. entra (recommended): the server validates Entra access tokens itself and serves protected resource metadata; needs an Entra app (createEntraApp or entraAppClientId). functionKey: clients send a Functions key (x-functions-key). easyAuth: App Service authentication (Microsoft Entra) admits signed-in callers; needs an Entra app. (none exists for loopback only and is refused on Azure.)')
@allowed([
  'entra'
  'functionKey'
  'easyAuth'
])
param authMode string = 'functionKey'

@description('ENTRA_ACCEPT_V1_TOKENS (entra mode): also accept v1 access tokens (issuer sts.windows.net).')
param acceptV1Tokens bool = false

@description('ENTRA_APP_ROLE (entra mode): the app role app-only callers (client credentials) need; empty refuses app-only callers.')
param entraAppRole string = ''

@description('MCP_ALLOW_ANONYMOUS_TOOLS_LIST (entra mode): answer tools/list without a token, for gateways that register tools before sign-in; tools/call still needs one.')
param allowAnonymousToolsList bool = false

@description('MCP_OAUTH_FACADE (entra mode): serve the sign-in facade, so MCP clients that cannot sign in to Entra on their own (Claude, MCP Inspector, Claude Code, the SDKs) sign in through the server, which relays to Entra with the managed identity as its credential (docs/clients.md). Off: clients sign in to Entra directly (VS Code, pre-authorized).')
param oauthFacade bool = false

@description('MCP_OAUTH_REDIRECT_URIS (facade): HTTPS callbacks of MCP clients the facade may send codes to; loopback callbacks of native clients (VS Code, Claude Code, MCP Inspector) are always allowed.')
param oauthRedirectUris array = [
  'https://claude.ai/api/mcp/auth_callback'
  'https://claude.com/api/mcp/auth_callback'
  'https://vscode.dev/redirect'
]

@description('Whether the facade\'s sealing key (Key Vault secret oauth-facade-key) exists already. azd records OAUTH_FACADE_KEY_EXISTS after the first deployment with the facade, so later ones keep the key; a new key cancels sign-ins in progress and the clients\' registrations (they register again).')
param oauthFacadeKeyExists bool = false

@secure()
@description('Value of a new facade sealing key: random by default (244 bits); never set it yourself. Used only when the key does not exist yet.')
param oauthFacadeKeyValue string = '${newGuid()} ${newGuid()}'

@description('GRAPH_IDENTITY: who Microsoft Graph sees; empty turns the Graph toolsets off. onBehalfOf (recommended, needs authMode entra and admin consent for graphDelegatedScopes): the signed-in user. managedIdentity: the app\'s identity with graphApplicationPermissions, "me" being the caller.')
@allowed([
  ''
  'onBehalfOf'
  'managedIdentity'
])
param graphIdentity string = ''

@description('GRAPH_ENDPOINT: the Microsoft Graph host; empty for https://graph.microsoft.com (set a sovereign cloud\'s, e.g. https://graph.microsoft.us).')
param graphEndpoint string = ''

@description('GRAPH_MAX_ITEMS: most items one Graph tool call returns (1 to 200).')
@minValue(1)
@maxValue(200)
param graphMaxItems int = 50

@description('GRAPH_MAX_BODY_CHARS: characters of one message or mail body in a result; longer ones are cut, and the cut is said (1 to 20000).')
@minValue(1)
@maxValue(20000)
param graphMaxBodyChars int = 2000

@description('GRAPH_WRITE_CONFIRMATION: how writes are confirmed by clients that cannot be asked: preview (a dry run and a confirmation token) or none. Clients with elicitation are always asked.')
@allowed([
  'preview'
  'none'
])
param graphWriteConfirmation string = 'preview'

@description('GRAPH_SENT_MARKER: the line added to messages and mail the server sends ({user} is the signed-in user\'s name); empty for the code\'s default, off for none.')
param graphSentMarker string = ''

@description('Whether the Graph cursor key (Key Vault secret graph-cursor-key) exists already; azd records GRAPH_CURSOR_KEY_EXISTS after the first deployment with Graph, so later ones keep it.')
param graphCursorKeyExists bool = false

@secure()
@description('Value of a new Graph cursor key: random by default; never set it yourself. Used only when the key does not exist yet.')
param graphCursorKeyValue string = '${newGuid()}${newGuid()}'

@description('MCP_READ_ONLY: expose only tools annotated read-only.')
param readOnly bool = true

@description('MCP_TOOLSETS: toolsets to enable (server, kusto, graph, graph.send, graph.admin); empty for each toolset\'s default.')
param toolsets array = []

@description('MCP_TOOLSET_GRANTS (entra and easyAuth modes; the app refuses to start with it in others): who may use which toolset, <toolset>=role:<app role>|scope:<scope>|group:<group object id>;… (SECURITY.md). Empty for the defaults: the app role toolset.<id> grants the read-only tools of <id>, and any signed-in caller gets the read-only tools of every toolset; tools that can make changes need a rule.')
param toolsetGrants string = ''

@description('MCP_ALLOWED_ORIGINS: extra browser origins allowed to call /mcp (exact origins, no *).')
param allowedOrigins array = []

@description('MCP_MAX_BODY_BYTES: larger request bodies get 413.')
@minValue(1)
@maxValue(104857600)
param maxBodyBytes int = 1048576

@description('MCP_PROGRESS_INTERVAL_SECONDS: progress heartbeat for long calls, which also keeps streamed responses from idling out (1 to 10).')
@minValue(1)
@maxValue(10)
param progressIntervalSeconds int = 5

@description('MCP_RATE_LIMIT_PER_MINUTE: tool calls a minute per caller, per instance (token bucket); 0 turns the limit off. functionKey callers share one bucket.')
@minValue(0)
@maxValue(100000)
param rateLimitPerMinute int = 120

@description('MCP_RATE_LIMIT_BURST: tool calls a caller may make at once before the per-minute rate applies.')
@minValue(1)
@maxValue(10000)
param rateLimitBurst int = 30

@description('MCP_MAX_BACKEND_CALLS: backend (Kusto) calls one instance runs at once; bounds its memory. Keep httpPerInstanceConcurrency at or below it.')
@minValue(1)
@maxValue(1000)
param maxBackendCalls int = 16

@description('MCP_BACKEND_QUEUE: calls that may wait for a backend slot on one instance; beyond it a call is refused with a retry hint.')
@minValue(1)
@maxValue(10000)
param backendQueue int = 32

@description('MCP_BACKEND_QUEUE_WAIT_SECONDS: how long a call may wait for a backend slot before it is refused (1 to 60).')
@minValue(1)
@maxValue(60)
param backendQueueWaitSeconds int = 10

@description('MCP_SHUTDOWN_SECONDS: the whole graceful shutdown (grace for running calls, then the audit flush); keep it inside the platform\'s kill grace period (1 to 60).')
@minValue(1)
@maxValue(60)
param shutdownSeconds int = 8

@description('KUSTO_CLUSTERS: allow-list, comma-separated name=https://cluster[/defaultDatabase]; empty turns the Kusto tools off.')
param kustoClusters string = ''

@description('KUSTO_DEFAULT_CLUSTER: cluster name used when a call names none; empty for the first listed.')
param kustoDefaultCluster string = ''

@description('KUSTO_MAX_ROWS: hard cap on maxRows per call.')
@minValue(1)
@maxValue(10000)
param kustoMaxRows int = 1000

@description('KUSTO_MAX_RESULT_BYTES: budget for the rendered rows of one result.')
@minValue(1)
@maxValue(4194304)
param kustoMaxResultBytes int = 65536

@description('KUSTO_DEFAULT_TIMEOUT_SECONDS: server timeout when a call sets none; must not exceed kustoMaxTimeoutSeconds.')
@minValue(1)
@maxValue(220)
param kustoDefaultTimeoutSeconds int = 60

@description('KUSTO_MAX_TIMEOUT_SECONDS: cap on a call\'s timeoutSeconds. At most 220: the Functions front end ends HTTP requests at 230 s.')
@minValue(1)
@maxValue(220)
param kustoMaxTimeoutSeconds int = 180

@description('KUSTO_SCHEMA_CACHE_SECONDS: how long a schema is trusted before its version is checked.')
@minValue(1)
@maxValue(86400)
param kustoSchemaCacheSeconds int = 600

@description('KUSTO_IDENTITY: who Kusto sees. managedIdentity: the app\'s identity (grant it Viewer, kustoViewerDatabases). onBehalfOf: the signed-in user through the secretless on-behalf-of exchange, so users\' own database roles apply; needs authMode entra, an Entra app (createEntraApp or entraAppClientId) and admin consent for its Azure Data Explorer delegated permission (docs/deploy.md).')
@allowed([
  'managedIdentity'
  'onBehalfOf'
])
param kustoIdentity string = 'managedIdentity'

@description('ENTRA_API_CLIENT_SECRET_NAME: on-behalf-of fallback, the name (not value) of a Key Vault secret holding a client secret of the Entra app; empty (recommended) for the secretless federated credential of the managed identity.')
param entraApiClientSecretName string = ''

@description('ENTRA_API_CERTIFICATE_SECRET_NAME: on-behalf-of fallback, the name of a Key Vault secret holding the Entra app\'s certificate as PEM (private key and certificate); empty for the federated credential.')
param entraApiCertificateSecretName string = ''

@description('AUDIT_FINGERPRINT_SECRET_NAME: name (not value) of the Key Vault secret keying audit fingerprints; empty for none. Create the secret first (docs/deploy.md).')
param auditFingerprintSecretName string = ''

@description('AUDIT_SDK_STATS: let the Application Insights SDK send its own usage metrics (statsbeat to Microsoft, SDK stats to this component).')
param auditSdkStats bool = false

@description('SECRET_CACHE_TTL_SECONDS: how long a Key Vault secret is kept in memory.')
@minValue(1)
@maxValue(86400)
param secretCacheTtlSeconds int = 3600

@description('Further app settings (name to value), for settings this template does not know yet. Never secrets: use a Key Vault reference (@Microsoft.KeyVault(SecretUri=...)) instead. Template settings take precedence.')
param extraAppSettings object = {}

// ---------------------------------------------------------------------------
// Monitoring and Key Vault

@description('Days Log Analytics keeps data, audit events included (workspace-based Application Insights data is retained 90 days at no extra charge).')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 90

@description('Send Key Vault audit logs and storage blob write/delete logs to Log Analytics.')
param enableDiagnostics bool = true

@description('Days a deleted vault or secret stays recoverable; purge protection is always on, so a vault name stays taken this long after deletion.')
@minValue(7)
@maxValue(90)
param keyVaultSoftDeleteRetentionInDays int = 90

// ---------------------------------------------------------------------------
// Options that need tenant or data-plane admin rights (off by default)

@description('Create the Entra app registration for the server (Microsoft Graph Bicep extension; needs Application Developer or Cloud Application Administrator). It provides the token audience, scope, toolset app roles and the federated credential for secretless on-behalf-of.')
param createEntraApp bool = false

@description('Client id of an existing Entra app registration to use instead of creating one (easyAuth audience).')
param entraAppClientId string = ''

@description('Unique name of the created app registration; empty for azure-mcp-functions-<environmentName>.')
param entraAppUniqueName string = ''

@description('Service management reference for the created app registration (required in some tenants); empty for none.')
param entraServiceManagementReference string = ''

@description('MCP client ids pre-authorized for the user_impersonation scope (no consent prompt) and accepted by Easy Auth. VS Code by default.')
param preAuthorizedClientIds array = [
  'aebc6443-996d-45c2-90f0-388ff96faa56'
]

@description('Extra redirect URIs on the app registration\'s Web platform. None are needed for MCP clients: with the facade (oauthFacade) they receive codes from the server, whose own callback is added here automatically, as is Easy Auth\'s in easyAuth mode.')
param signInRedirectUris array = []

@description('Require an app role (toolset) assignment before a user or client may get a token for the server.')
param entraAppRoleAssignmentRequired bool = false

@description('Microsoft Graph delegated permissions the server requests on behalf of users (on-behalf-of, graphIdentity onBehalfOf). The default is User.Read (sign-in) plus every delegated permission of the read toolset graph; graph.send and graph.admin need more (docs/deploy.md, Microsoft Graph permissions). test/infra checks this list against the tools.')
param graphDelegatedScopes array = [
  'User.Read'
  'User.ReadBasic.All'
  'Team.ReadBasic.All'
  'Channel.ReadBasic.All'
  'ChannelMessage.Read.All'
  'Presence.Read.All'
  'Chat.Read'
  'Mail.Read'
  'Calendars.ReadBasic'
  'Files.Read.All'
  'Sites.Read.All'
]

@description('Grant tenant-wide admin consent for graphDelegatedScopes (needs a Privileged Role Administrator).')
param grantGraphAdminConsent bool = false

@description('Microsoft Graph application permissions for the managed identity (tenant-wide; needs a Privileged Role Administrator), e.g. Team.ReadBasic.All. Empty for none.')
param graphApplicationPermissions array = []

@description('Resource id of an existing Azure Data Explorer cluster on which the identity gets database Viewer (needs AllDatabasesAdmin there); empty for none.')
param kustoClusterResourceId string = ''

@description('Databases on kustoClusterResourceId where the identity becomes Viewer.')
param kustoViewerDatabases array = []

// ---------------------------------------------------------------------------
// Network

@description('Join the app to a new virtual network and reach storage and Key Vault only through private endpoints (their public access off).')
param enableVnet bool = false

@description('Address space of the virtual network (enableVnet).')
param vnetAddressPrefix string = '10.40.0.0/16'

@description('Subnet for the function app\'s VNet integration (enableVnet).')
param appSubnetPrefix string = '10.40.0.0/24'

@description('Subnet for private endpoints (enableVnet).')
param privateEndpointSubnetPrefix string = '10.40.1.0/24'

// ---------------------------------------------------------------------------

// Must match the service name in azure.yaml (the azd-service-name tag).
var azdServiceName = 'mcp'
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var allTags = union(tags, { 'azd-env-name': environmentName })
var appName = empty(functionAppName) ? 'func-mcp-${resourceToken}' : functionAppName
var deploymentContainerName = 'app-package'
var appServiceDomains = {
  AzureCloud: 'azurewebsites.net'
  AzureUSGovernment: 'azurewebsites.us'
  AzureChinaCloud: 'chinacloudsites.cn'
}
// Known before the app exists, for the Entra app's Easy Auth redirect URI.
var predictedHostName = '${appName}.${appServiceDomains[environment().name]}'
var easyAuthRedirectUris = [
  'https://${predictedHostName}/.auth/login/aad/callback'
]
var oauthFacadeEnabled = authMode == 'entra' && oauthFacade
// The facade's own callback (src/auth/facade/facade.ts FACADE_PATHS): the only redirect URI Entra needs for it.
var oauthFacadeRedirectUris = oauthFacadeEnabled ? [
  'https://${predictedHostName}/oauth/callback'
] : []
// One Entra app role per toolset (src/tools/toolsets.ts; test/infra checks they match).
var toolsetIds = [
  'server'
  'kusto'
  'graph'
  'graph.send'
  'graph.admin'
]
var graphEnabled = !empty(graphIdentity)

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: empty(resourceGroupName) ? 'rg-${environmentName}' : resourceGroupName
  location: location
  tags: allTags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-mcp-${resourceToken}'
    location: location
    tags: allTags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    workspaceName: 'log-mcp-${resourceToken}'
    appInsightsName: 'appi-mcp-${resourceToken}'
    location: location
    tags: allTags
    retentionInDays: logRetentionInDays
    identityPrincipalId: identity.outputs.principalId
  }
}

module auditQueries 'modules/audit-queries.bicep' = {
  name: 'audit-queries'
  scope: rg
  params: {
    workspaceName: monitoring.outputs.workspaceName
    location: location
    tags: allTags
    workbookDisplayName: 'MCP audit (${appName})'
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'stmcp${resourceToken}'
    location: location
    tags: allTags
    deploymentContainerName: deploymentContainerName
    identityPrincipalId: identity.outputs.principalId
    privateNetworking: enableVnet
    diagnosticsWorkspaceId: enableDiagnostics ? monitoring.outputs.workspaceId : ''
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'key-vault'
  scope: rg
  params: {
    name: 'kv-mcp-${resourceToken}'
    location: location
    tags: allTags
    identityPrincipalId: identity.outputs.principalId
    softDeleteRetentionInDays: keyVaultSoftDeleteRetentionInDays
    privateNetworking: enableVnet
    diagnosticsWorkspaceId: enableDiagnostics ? monitoring.outputs.workspaceId : ''
    oauthFacadeKeyValue: oauthFacadeEnabled && !oauthFacadeKeyExists ? oauthFacadeKeyValue : ''
    graphCursorKeyValue: graphEnabled && !graphCursorKeyExists ? graphCursorKeyValue : ''
  }
}

module network 'modules/network.bicep' = if (enableVnet) {
  name: 'network'
  scope: rg
  params: {
    vnetName: 'vnet-mcp-${resourceToken}'
    location: location
    tags: allTags
    addressPrefix: vnetAddressPrefix
    appSubnetPrefix: appSubnetPrefix
    privateEndpointSubnetPrefix: privateEndpointSubnetPrefix
    storageAccountId: storage.outputs.id
    keyVaultId: keyVault.outputs.id
  }
}

module entraApp 'modules/entra-app.bicep' = if (createEntraApp) {
  name: 'entra-app'
  scope: rg
  params: {
    uniqueName: empty(entraAppUniqueName) ? 'azure-mcp-functions-${environmentName}' : entraAppUniqueName
    displayName: 'MCP server (${appName})'
    serviceManagementReference: entraServiceManagementReference
    identityPrincipalId: identity.outputs.principalId
    preAuthorizedClientIds: preAuthorizedClientIds
    webRedirectUris: concat(authMode == 'easyAuth' ? easyAuthRedirectUris : [], oauthFacadeRedirectUris, signInRedirectUris)
    toolsets: toolsetIds
    graphDelegatedScopes: graphDelegatedScopes
    grantGraphAdminConsent: grantGraphAdminConsent
    appRoleAssignmentRequired: entraAppRoleAssignmentRequired
    enableIdTokenIssuance: authMode == 'easyAuth'
  }
}

module graphPermissions 'modules/graph-app-permissions.bicep' = if (!empty(graphApplicationPermissions)) {
  name: 'graph-app-permissions'
  scope: rg
  params: {
    identityPrincipalId: identity.outputs.principalId
    permissions: graphApplicationPermissions
  }
}

// /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Kusto/clusters/<name>
var kustoClusterIdParts = split(kustoClusterResourceId, '/')
var kustoViewerEnabled = length(kustoClusterIdParts) == 9 && !empty(kustoViewerDatabases)

module kustoViewer 'modules/kusto-viewer.bicep' = if (kustoViewerEnabled) {
  name: 'kusto-viewer'
  // The cluster's own subscription and resource group (placeholders when off, never deployed).
  scope: resourceGroup(kustoViewerEnabled ? kustoClusterIdParts[2] : subscription().subscriptionId, kustoViewerEnabled ? kustoClusterIdParts[4] : rg.name)
  params: {
    clusterName: last(kustoClusterIdParts)
    databaseNames: kustoViewerDatabases
    identityClientId: identity.outputs.clientId
  }
}

var resolvedEntraClientId = createEntraApp ? entraApp.outputs.clientId : entraAppClientId
var onBehalfOfUsed = kustoIdentity == 'onBehalfOf' || graphIdentity == 'onBehalfOf'

// The server's settings with a value in every deployment.
var coreSettings = {
  MCP_AUTH_MODE: authMode
  MCP_READ_ONLY: readOnly ? 'true' : 'false'
  MCP_MAX_BODY_BYTES: string(maxBodyBytes)
  MCP_PROGRESS_INTERVAL_SECONDS: string(progressIntervalSeconds)
  MCP_RATE_LIMIT_PER_MINUTE: string(rateLimitPerMinute)
  MCP_RATE_LIMIT_BURST: string(rateLimitBurst)
  MCP_MAX_BACKEND_CALLS: string(maxBackendCalls)
  MCP_BACKEND_QUEUE: string(backendQueue)
  MCP_BACKEND_QUEUE_WAIT_SECONDS: string(backendQueueWaitSeconds)
  MCP_SHUTDOWN_SECONDS: string(shutdownSeconds)
  KUSTO_MAX_ROWS: string(kustoMaxRows)
  KUSTO_MAX_RESULT_BYTES: string(kustoMaxResultBytes)
  KUSTO_DEFAULT_TIMEOUT_SECONDS: string(kustoDefaultTimeoutSeconds)
  KUSTO_MAX_TIMEOUT_SECONDS: string(kustoMaxTimeoutSeconds)
  KUSTO_SCHEMA_CACHE_SECONDS: string(kustoSchemaCacheSeconds)
  KUSTO_IDENTITY: kustoIdentity
  AUDIT_SDK_STATS: auditSdkStats ? 'true' : 'false'
  GRAPH_MAX_ITEMS: string(graphMaxItems)
  GRAPH_MAX_BODY_CHARS: string(graphMaxBodyChars)
  GRAPH_WRITE_CONFIRMATION: graphWriteConfirmation
  SECRET_CACHE_TTL_SECONDS: string(secretCacheTtlSeconds)
}

// Settings that are left out when empty, so the server sees them as unset
// (an empty secret name or origin list is not a valid value).
var optionalSettings = {
  MCP_TOOLSETS: join(toolsets, ',')
  MCP_TOOLSET_GRANTS: toolsetGrants
  MCP_ALLOWED_ORIGINS: join(allowedOrigins, ',')
  KUSTO_CLUSTERS: kustoClusters
  KUSTO_DEFAULT_CLUSTER: kustoDefaultCluster
  AUDIT_FINGERPRINT_SECRET_NAME: auditFingerprintSecretName
  // Entra mode: the API the tokens are for, this tenant, and the public URL clients are told about.
  // On-behalf-of also needs them: the tenant and app of the exchange.
  ENTRA_TENANT_ID: authMode == 'entra' || onBehalfOfUsed ? tenant().tenantId : ''
  ENTRA_API_CLIENT_ID: authMode == 'entra' || onBehalfOfUsed ? resolvedEntraClientId : ''
  ENTRA_API_CLIENT_SECRET_NAME: onBehalfOfUsed ? entraApiClientSecretName : ''
  ENTRA_API_CERTIFICATE_SECRET_NAME: onBehalfOfUsed ? entraApiCertificateSecretName : ''
  MCP_PUBLIC_URL: authMode == 'entra' ? 'https://${predictedHostName}/mcp' : ''
  AZURE_AUTHORITY_HOST: authMode == 'entra' ? environment().authentication.loginEndpoint : ''
  ENTRA_ACCEPT_V1_TOKENS: authMode == 'entra' && acceptV1Tokens ? 'true' : ''
  ENTRA_APP_ROLE: authMode == 'entra' ? entraAppRole : ''
  MCP_ALLOW_ANONYMOUS_TOOLS_LIST: authMode == 'entra' && allowAnonymousToolsList ? 'true' : ''
  MCP_OAUTH_FACADE: oauthFacadeEnabled ? 'true' : ''
  MCP_OAUTH_REDIRECT_URIS: oauthFacadeEnabled ? join(oauthRedirectUris, ',') : ''
  // The code's default name (oauth-facade-key) is the secret this template creates.
  MCP_OAUTH_FACADE_KEY_SECRET: ''
  // Microsoft Graph: on when GRAPH_IDENTITY is set; on-behalf-of also needs ENTRA_* above.
  GRAPH_IDENTITY: graphIdentity
  GRAPH_ENDPOINT: graphEndpoint
  GRAPH_SENT_MARKER: graphSentMarker
  // The cursor key this template creates, shared by every instance (a key per instance would refuse another's cursors).
  GRAPH_CURSOR_KEY_SECRET_NAME: graphEnabled ? 'graph-cursor-key' : ''
  // The code's defaults; tune them through extraAppSettings.
  GRAPH_REQUEST_TIMEOUT_SECONDS: ''
  GRAPH_MAX_RETRIES: ''
  GRAPH_MAX_RETRY_WAIT_SECONDS: ''
  GRAPH_CIRCUIT_FAILURES: ''
  GRAPH_CIRCUIT_COOLDOWN_SECONDS: ''
  GRAPH_CURSOR_PREVIOUS_KEY_SECRET_NAME: ''
  GRAPH_CURSOR_TTL_SECONDS: ''
  // The code's defaults (api://<client-id>, user_impersonation, 60 s) match the app the template creates.
  ENTRA_API_IDENTIFIER_URI: ''
  ENTRA_REQUIRED_SCOPE: ''
  ENTRA_CLOCK_SKEW_SECONDS: ''
}

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  scope: rg
  params: {
    name: appName
    planName: 'plan-mcp-${resourceToken}'
    location: location
    tags: allTags
    serviceName: azdServiceName
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    appInsightsName: monitoring.outputs.appInsightsName
    keyVaultUri: keyVault.outputs.uri
    appSettings: union(
      extraAppSettings,
      coreSettings,
      toObject(filter(items(optionalSettings), setting => !empty(setting.value)), setting => setting.key, setting => setting.value)
    )
    authMode: authMode
    entraClientId: resolvedEntraClientId
    allowedClientApplications: preAuthorizedClientIds
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    httpPerInstanceConcurrency: httpPerInstanceConcurrency
    alwaysReadyInstanceCount: alwaysReadyInstanceCount
    virtualNetworkSubnetId: enableVnet ? network.outputs.appSubnetId : ''
  }
}

// ---------------------------------------------------------------------------
// Outputs (azd writes them to .azure/<env>/.env). None carries a key, a
// connection string or a secret.

@description('Paste this into your MCP client.')
output MCP_ENDPOINT_URL string = 'https://${functionApp.outputs.defaultHostName}/mcp'

@description('OAuth protected resource metadata for the endpoint (served once the server validates Entra tokens itself).')
output MCP_PROTECTED_RESOURCE_METADATA_URL string = 'https://${functionApp.outputs.defaultHostName}/.well-known/oauth-protected-resource/mcp'

@description('The sign-in facade\'s metadata (RFC 8414), when MCP_OAUTH_FACADE is on; empty otherwise.')
output MCP_OAUTH_METADATA_URL string = oauthFacadeEnabled ? 'https://${functionApp.outputs.defaultHostName}/.well-known/oauth-authorization-server' : ''

@description('Whether the facade\'s sealing key exists in Key Vault (read back by main.bicepparam, so the next deployment keeps it).')
output OAUTH_FACADE_KEY_EXISTS bool = oauthFacadeEnabled || oauthFacadeKeyExists

@description('Whether the Graph cursor key exists in Key Vault (read back by main.bicepparam, so the next deployment keeps it).')
output GRAPH_CURSOR_KEY_EXISTS bool = graphEnabled || graphCursorKeyExists

@description('Anonymous health probe.')
output MCP_HEALTH_URL string = 'https://${functionApp.outputs.defaultHostName}/health'

@description('Function app name (az functionapp commands).')
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name

@description('Client id of the managed identity (AZURE_CLIENT_ID in the app; Kusto and Graph grants name it).')
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId

@description('Principal (object) id of the managed identity (role assignments).')
output AZURE_MANAGED_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId

@description('Key Vault URI (KEY_VAULT_URL in the app).')
output AZURE_KEY_VAULT_URI string = keyVault.outputs.uri

@description('Key Vault name (az keyvault commands).')
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name

@description('Application Insights component receiving the audit events.')
output AZURE_APPLICATION_INSIGHTS_NAME string = monitoring.outputs.appInsightsName

@description('Log Analytics workspace with the saved audit queries and workbook.')
output AZURE_LOG_ANALYTICS_WORKSPACE_NAME string = monitoring.outputs.workspaceName

@description('Client id of the server\'s Entra app registration (created or given); empty without one.')
output ENTRA_APP_CLIENT_ID string = resolvedEntraClientId

@description('Scope MCP clients request when signing in; empty without an Entra app.')
output ENTRA_APP_SCOPE string = empty(resolvedEntraClientId) ? '' : 'api://${resolvedEntraClientId}/user_impersonation'

@description('Resource group holding the deployment.')
output AZURE_RESOURCE_GROUP string = rg.name

@description('Region of the deployment.')
output AZURE_LOCATION string = location

@description('Tenant of the deployment.')
output AZURE_TENANT_ID string = tenant().tenantId
