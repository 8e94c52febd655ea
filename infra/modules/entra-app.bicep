// Optional: the Entra app registration that represents this MCP server as an
// OAuth protected resource (Microsoft Graph Bicep extension). Creating it
// needs Entra rights the deployer often lacks (Application Developer or
// Cloud Application Administrator; admin consent needs Privileged Role
// Administrator), so main.bicep only deploys it when asked.
//
// What it declares and what uses it:
// - identifier URI api://<client id> and the delegated scope user_impersonation:
//   the token audience the server's Entra auth mode validates and the scope its
//   protected resource metadata advertises (Easy Auth uses the same app today);
// - one app role per toolset (value toolset.<id>): for per-toolset authorization;
// - VS Code (and any client id you add) pre-authorized for the scope, since
//   VS Code shows no consent prompt;
// - redirect URIs: Easy Auth's callback, and the clients of the sign-in facade;
// - a federated identity credential trusting the app's managed identity, so the
//   server can act as this app (on-behalf-of to Graph) with no client secret;
// - the Microsoft Graph delegated permissions that on-behalf-of calls need, and
//   optionally the tenant-wide admin consent for them.
extension microsoftGraphV1

@description('Stable unique name of the app registration (the Graph extension\'s key; re-deploying updates the same app).')
param uniqueName string

@description('Display name of the app registration.')
param displayName string

@description('Service management reference (required in some tenants, e.g. Microsoft\'s); empty for none.')
param serviceManagementReference string

@description('Principal (object) id of the app\'s managed identity: the subject of the federated identity credential.')
param identityPrincipalId string

@description('Client ids of MCP clients allowed to get tokens for the scope without a consent prompt.')
param preAuthorizedClientIds array

@description('Redirect URIs on the Web platform (Easy Auth callback, sign-in facade clients).')
param webRedirectUris array

@description('Toolset ids; each gets an app role toolset.<id>.')
param toolsets array

@description('Microsoft Graph delegated permissions (scope names such as User.Read) the server requests on behalf of users.')
param graphDelegatedScopes array

@description('Grant tenant-wide admin consent for graphDelegatedScopes (needs a Privileged Role Administrator).')
param grantGraphAdminConsent bool

@description('Require an app role assignment before a user or client can get a token for this app.')
param appRoleAssignmentRequired bool

@description('Issue ID tokens to the Web platform (needed for Easy Auth\'s browser sign-in).')
param enableIdTokenIssuance bool

var graphAppId = '00000003-0000-0000-c000-000000000000'
var scopeValue = 'user_impersonation'
var scopeId = guid(uniqueName, 'scope', scopeValue)

// Managed identities present their tokens to Entra with this audience; it differs per cloud.
var tokenExchangeAudiences = {
  AzureCloud: 'api://AzureADTokenExchange'
  AzureUSGovernment: 'api://AzureADTokenExchangeUSGov'
  AzureChinaCloud: 'api://AzureADTokenExchangeChina'
}

resource graph 'Microsoft.Graph/servicePrincipals@v1.0' existing = {
  appId: graphAppId
}

// Scope name -> id, from Graph's own service principal (no GUIDs to look up by hand).
var graphScopeIds = toObject(filter(graph.oauth2PermissionScopes, s => contains(graphDelegatedScopes, s.value)), s => s.value, s => s.id)

// A for-expression must be a variable's whole value, hence its own variable.
var preAuthorizedApplications = [
  for clientId in preAuthorizedClientIds: {
    appId: clientId
    delegatedPermissionIds: [
      scopeId
    ]
  }
]

var api = {
  requestedAccessTokenVersion: 2
  oauth2PermissionScopes: [
    {
      id: scopeId
      value: scopeValue
      type: 'User'
      isEnabled: true
      adminConsentDisplayName: 'Use the MCP server as the signed-in user'
      adminConsentDescription: 'Lets the application call the MCP server\'s tools as the signed-in user.'
      userConsentDisplayName: 'Use the MCP server as you'
      userConsentDescription: 'Lets the application call the MCP server\'s tools as you.'
    }
  ]
  preAuthorizedApplications: preAuthorizedApplications
}

var appRoles = [
  for toolset in toolsets: {
    id: guid(uniqueName, 'app-role', toolset)
    value: 'toolset.${toolset}'
    displayName: 'MCP toolset ${toolset}'
    description: 'May call the tools of the ${toolset} toolset on this MCP server.'
    allowedMemberTypes: [
      'User'
      'Application'
    ]
    isEnabled: true
  }
]

resource app 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: uniqueName
  displayName: displayName
  signInAudience: 'AzureADMyOrg'
  serviceManagementReference: empty(serviceManagementReference) ? null : serviceManagementReference
  api: api
  appRoles: appRoles
  web: {
    redirectUris: webRedirectUris
    implicitGrantSettings: {
      enableAccessTokenIssuance: false
      enableIdTokenIssuance: enableIdTokenIssuance
    }
  }
  requiredResourceAccess: [
    {
      resourceAppId: graphAppId
      resourceAccess: [
        for scope in graphDelegatedScopes: {
          id: graphScopeIds[scope]
          type: 'Scope'
        }
      ]
    }
  ]
}

// The client id exists only once the app does, so the identifier URI
// api://<client id> (the form tenant app-management policies accept) is set by
// a second declaration of the same app.
resource appIdentifierUri 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: app.uniqueName
  displayName: displayName
  identifierUris: [
    'api://${app.appId}'
  ]
  api: api
}

resource servicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = {
  appId: appIdentifierUri.appId
  appRoleAssignmentRequired: appRoleAssignmentRequired
}

// Secretless: the managed identity's token is this app's client assertion
// (on-behalf-of, and Easy Auth's OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID).
resource managedIdentityCredential 'Microsoft.Graph/applications/federatedIdentityCredentials@v1.0' = {
  name: '${appIdentifierUri.uniqueName}/managed-identity'
  description: 'The MCP server\'s user-assigned managed identity acts as this app; no client secret exists.'
  issuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
  subject: identityPrincipalId
  audiences: [
    tokenExchangeAudiences[environment().name]
  ]
}

resource graphConsent 'Microsoft.Graph/oauth2PermissionGrants@v1.0' = if (grantGraphAdminConsent && !empty(graphDelegatedScopes)) {
  clientId: servicePrincipal.id
  consentType: 'AllPrincipals'
  resourceId: graph.id
  scope: join(graphDelegatedScopes, ' ')
}

@description('Application (client) id of the app registration.')
output clientId string = appIdentifierUri.appId

@description('Identifier URI (token audience in v1 form): api://<client id>.')
output identifierUri string = 'api://${appIdentifierUri.appId}'

@description('The delegated scope clients request: api://<client id>/user_impersonation.')
output scope string = 'api://${appIdentifierUri.appId}/${scopeValue}'

@description('Object id of the app\'s service principal (for app role assignments).')
output servicePrincipalId string = servicePrincipal.id
