// Optional: Microsoft Graph application permissions (app roles) for the
// app's managed identity, for tools that read Graph as the server rather than
// as the user. Assigning them is tenant-wide admin consent, so it needs a
// Privileged Role Administrator (or Global Administrator) and is off by
// default. Grant the fewest you can: each one applies to the whole tenant.
extension microsoftGraphV1

@description('Principal (object) id of the app\'s managed identity (its service principal).')
param identityPrincipalId string

@description('Graph application permission names, e.g. Team.ReadBasic.All.')
param permissions array

resource graph 'Microsoft.Graph/servicePrincipals@v1.0' existing = {
  appId: '00000003-0000-0000-c000-000000000000'
}

// Permission name -> app role id, from Graph's own service principal.
var appRoleIds = toObject(filter(graph.appRoles, r => contains(permissions, r.value) && contains(r.allowedMemberTypes, 'Application')), r => r.value, r => r.id)

resource assignments 'Microsoft.Graph/appRoleAssignedTo@v1.0' = [
  for permission in permissions: {
    principalId: identityPrincipalId
    resourceId: graph.id
    appRoleId: appRoleIds[permission]
  }
]

@description('The permissions granted.')
output granted array = permissions
