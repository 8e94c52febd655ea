// Parameters for infra/main.bicep. Every value can come from the environment,
// so the same file serves `azd up` (azd passes its environment: `azd env set
// KUSTO_CLUSTERS ...`) and `az deployment sub create` (export the variables
// first). The second argument of readEnvironmentVariable is the default used
// when the variable is not set; it equals main.bicep's own default (checked by
// test/infra/bicep.test.ts). List-valued variables are comma-separated.
//
// Parameter meanings: main.bicep's @description of each. docs/deploy.md has
// the walkthrough.
using './main.bicep'

// --- Core ---------------------------------------------------------------------
// Set by azd (azd env new / azd up); export them yourself for az deployment.
param environmentName = readEnvironmentVariable('AZURE_ENV_NAME', 'mcp')
param location = readEnvironmentVariable('AZURE_LOCATION', 'eastus2')
// Empty: rg-<environmentName>. azd records the group it deployed to here.
param resourceGroupName = readEnvironmentVariable('AZURE_RESOURCE_GROUP', '')
param functionAppName = readEnvironmentVariable('MCP_FUNCTION_APP_NAME', '')

// --- Scale (Flex Consumption) ---------------------------------------------------
param maximumInstanceCount = int(readEnvironmentVariable('FLEX_MAXIMUM_INSTANCE_COUNT', '40'))
param instanceMemoryMB = int(readEnvironmentVariable('FLEX_INSTANCE_MEMORY_MB', '2048'))
param httpPerInstanceConcurrency = int(readEnvironmentVariable('FLEX_HTTP_PER_INSTANCE_CONCURRENCY', '16'))
param alwaysReadyInstanceCount = int(readEnvironmentVariable('FLEX_ALWAYS_READY_INSTANCES', '0'))

// --- Server settings (same names as the app settings they become) ---------------
param authMode = readEnvironmentVariable('MCP_AUTH_MODE', 'functionKey')
param acceptV1Tokens = bool(readEnvironmentVariable('ENTRA_ACCEPT_V1_TOKENS', 'false'))
param entraAppRole = readEnvironmentVariable('ENTRA_APP_ROLE', '')
param allowAnonymousToolsList = bool(readEnvironmentVariable('MCP_ALLOW_ANONYMOUS_TOOLS_LIST', 'false'))
// The sign-in facade (entra mode; docs/clients.md). OAUTH_FACADE_KEY_EXISTS is an output azd records after the first deployment.
param oauthFacade = bool(readEnvironmentVariable('MCP_OAUTH_FACADE', 'false'))
param oauthRedirectUris = split(readEnvironmentVariable('MCP_OAUTH_REDIRECT_URIS', 'https://claude.ai/api/mcp/auth_callback,https://claude.com/api/mcp/auth_callback,https://vscode.dev/redirect'), ',')
param oauthFacadeKeyExists = bool(readEnvironmentVariable('OAUTH_FACADE_KEY_EXISTS', 'false'))
// Microsoft Graph (empty GRAPH_IDENTITY: off). GRAPH_CURSOR_KEY_EXISTS is an output azd records after the first deployment with Graph.
param graphIdentity = readEnvironmentVariable('GRAPH_IDENTITY', '')
param graphEndpoint = readEnvironmentVariable('GRAPH_ENDPOINT', '')
param graphMaxItems = int(readEnvironmentVariable('GRAPH_MAX_ITEMS', '50'))
param graphMaxBodyChars = int(readEnvironmentVariable('GRAPH_MAX_BODY_CHARS', '2000'))
param graphWriteConfirmation = readEnvironmentVariable('GRAPH_WRITE_CONFIRMATION', 'preview')
param graphSentMarker = readEnvironmentVariable('GRAPH_SENT_MARKER', '')
param graphCursorKeyExists = bool(readEnvironmentVariable('GRAPH_CURSOR_KEY_EXISTS', 'false'))
param readOnly = bool(readEnvironmentVariable('MCP_READ_ONLY', 'true'))
param toolsets = empty(readEnvironmentVariable('MCP_TOOLSETS', '')) ? [] : split(readEnvironmentVariable('MCP_TOOLSETS', ''), ',')
// e.g. kusto=role:toolset.kusto|group:<group object id>;server=scope:user_impersonation (entra, easyAuth)
param toolsetGrants = readEnvironmentVariable('MCP_TOOLSET_GRANTS', '')
param allowedOrigins = empty(readEnvironmentVariable('MCP_ALLOWED_ORIGINS', '')) ? [] : split(readEnvironmentVariable('MCP_ALLOWED_ORIGINS', ''), ',')
param maxBodyBytes = int(readEnvironmentVariable('MCP_MAX_BODY_BYTES', '1048576'))
param progressIntervalSeconds = int(readEnvironmentVariable('MCP_PROGRESS_INTERVAL_SECONDS', '5'))
param rateLimitPerMinute = int(readEnvironmentVariable('MCP_RATE_LIMIT_PER_MINUTE', '120'))
param rateLimitBurst = int(readEnvironmentVariable('MCP_RATE_LIMIT_BURST', '30'))
param maxBackendCalls = int(readEnvironmentVariable('MCP_MAX_BACKEND_CALLS', '16'))
param backendQueue = int(readEnvironmentVariable('MCP_BACKEND_QUEUE', '32'))
param backendQueueWaitSeconds = int(readEnvironmentVariable('MCP_BACKEND_QUEUE_WAIT_SECONDS', '10'))
param shutdownSeconds = int(readEnvironmentVariable('MCP_SHUTDOWN_SECONDS', '8'))
// e.g. help=https://help.kusto.windows.net/Samples
param kustoClusters = readEnvironmentVariable('KUSTO_CLUSTERS', '')
param kustoDefaultCluster = readEnvironmentVariable('KUSTO_DEFAULT_CLUSTER', '')
param kustoMaxRows = int(readEnvironmentVariable('KUSTO_MAX_ROWS', '1000'))
param kustoMaxResultBytes = int(readEnvironmentVariable('KUSTO_MAX_RESULT_BYTES', '65536'))
param kustoDefaultTimeoutSeconds = int(readEnvironmentVariable('KUSTO_DEFAULT_TIMEOUT_SECONDS', '60'))
param kustoMaxTimeoutSeconds = int(readEnvironmentVariable('KUSTO_MAX_TIMEOUT_SECONDS', '180'))
param kustoSchemaCacheSeconds = int(readEnvironmentVariable('KUSTO_SCHEMA_CACHE_SECONDS', '600'))
// managedIdentity or onBehalfOf (the user's own Kusto permissions; needs MCP_AUTH_MODE=entra).
param kustoIdentity = readEnvironmentVariable('KUSTO_IDENTITY', 'managedIdentity')
// On-behalf-of fallbacks: Key Vault secret names, never values; empty for the secretless federated credential.
param entraApiClientSecretName = readEnvironmentVariable('ENTRA_API_CLIENT_SECRET_NAME', '')
param entraApiCertificateSecretName = readEnvironmentVariable('ENTRA_API_CERTIFICATE_SECRET_NAME', '')
// The secret's name, never its value (docs/deploy.md: create the secret first).
param auditFingerprintSecretName = readEnvironmentVariable('AUDIT_FINGERPRINT_SECRET_NAME', '')
param auditSdkStats = bool(readEnvironmentVariable('AUDIT_SDK_STATS', 'false'))
param secretCacheTtlSeconds = int(readEnvironmentVariable('SECRET_CACHE_TTL_SECONDS', '3600'))
param extraAppSettings = {}

// --- Monitoring and Key Vault ----------------------------------------------------
param logRetentionInDays = int(readEnvironmentVariable('LOG_RETENTION_DAYS', '90'))
param enableDiagnostics = bool(readEnvironmentVariable('ENABLE_DIAGNOSTICS', 'true'))
param keyVaultSoftDeleteRetentionInDays = int(readEnvironmentVariable('KEY_VAULT_SOFT_DELETE_DAYS', '90'))

// --- Options needing admin rights (docs/deploy.md "Steps that need an admin") ---
param createEntraApp = bool(readEnvironmentVariable('CREATE_ENTRA_APP', 'false'))
// An existing registration; when createEntraApp is true, azd records the created one here.
param entraAppClientId = readEnvironmentVariable('ENTRA_APP_CLIENT_ID', '')
param entraAppUniqueName = readEnvironmentVariable('ENTRA_APP_UNIQUE_NAME', '')
param entraServiceManagementReference = readEnvironmentVariable('ENTRA_SERVICE_MANAGEMENT_REFERENCE', '')
// VS Code's client id; add other MCP clients' ids (comma-separated in the variable).
param preAuthorizedClientIds = split(readEnvironmentVariable('ENTRA_PREAUTHORIZED_CLIENT_IDS', 'aebc6443-996d-45c2-90f0-388ff96faa56'), ',')
// Extra Web redirect URIs; MCP clients need none (the facade's callback is added when it is on).
param signInRedirectUris = []
param entraAppRoleAssignmentRequired = bool(readEnvironmentVariable('ENTRA_APP_ROLE_ASSIGNMENT_REQUIRED', 'false'))
param graphDelegatedScopes = split(readEnvironmentVariable('GRAPH_DELEGATED_SCOPES', 'User.Read,User.ReadBasic.All,Team.ReadBasic.All,Channel.ReadBasic.All,ChannelMessage.Read.All,Presence.Read.All,Chat.Read,Mail.Read,Calendars.ReadBasic,Files.Read.All,Sites.Read.All'), ',')
param grantGraphAdminConsent = bool(readEnvironmentVariable('GRANT_GRAPH_ADMIN_CONSENT', 'false'))
param graphApplicationPermissions = empty(readEnvironmentVariable('GRAPH_APPLICATION_PERMISSIONS', '')) ? [] : split(readEnvironmentVariable('GRAPH_APPLICATION_PERMISSIONS', ''), ',')
// /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Kusto/clusters/<name>
param kustoClusterResourceId = readEnvironmentVariable('KUSTO_CLUSTER_RESOURCE_ID', '')
param kustoViewerDatabases = empty(readEnvironmentVariable('KUSTO_VIEWER_DATABASES', '')) ? [] : split(readEnvironmentVariable('KUSTO_VIEWER_DATABASES', ''), ',')

// --- Network -------------------------------------------------------------------------
param enableVnet = bool(readEnvironmentVariable('VNET_ENABLED', 'false'))
param vnetAddressPrefix = readEnvironmentVariable('VNET_ADDRESS_PREFIX', '10.40.0.0/16')
param appSubnetPrefix = readEnvironmentVariable('VNET_APP_SUBNET_PREFIX', '10.40.0.0/24')
param privateEndpointSubnetPrefix = readEnvironmentVariable('VNET_PRIVATE_ENDPOINT_SUBNET_PREFIX', '10.40.1.0/24')
