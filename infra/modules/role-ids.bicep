// Built-in Azure role definition ids, in one place. Every role assignment in
// infra/ refers to one of these by name; test/infra/bicep.test.ts checks each
// against the documented GUID.
//
// The app's identity gets only what it uses: blob data on its own storage
// account (host storage and the Flex deployment package), ingestion into its
// own Application Insights component, and reading secrets from its own vault.

@export()
@description('Built-in role definition ids (GUIDs) used by this deployment.')
var builtInRoleIds = {
  // Host storage with an identity (keys, leases) and the Flex deployment container.
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  // Entra-authenticated ingestion into Application Insights (local auth is off).
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  // Read secret values (the audit fingerprint key, Key Vault references).
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
}
