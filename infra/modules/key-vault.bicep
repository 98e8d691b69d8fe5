// Key Vault in RBAC mode (no access policies) holding the app registration's client secret. The
// secret is created only when a value is passed: re-provisioning without it leaves the stored
// secret (and its versions) alone, and the value never appears in an output.

param name string
param location string
param tags object = {}

@description('Name of the secret the Function App reads through a Key Vault reference.')
param clientSecretName string = 'partner-center-client-secret'

@secure()
@description('Client secret of the Partner Center app registration; empty leaves the vault as it is.')
param clientSecretValue string = ''

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    publicNetworkAccess: 'Enabled'
  }
}

resource clientSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(clientSecretValue)) {
  parent: vault
  name: clientSecretName
  properties: {
    value: clientSecretValue
    contentType: 'Partner Center app registration client secret'
  }
}

output name string = vault.name
// The versionless URI: a Key Vault reference to it follows rotation (App Service re-reads it within 24 h,
// or at once on a refresh of the app's configuration references: docs/operations.md). A URI is not
// the secret.
output clientSecretUri string = '${vault.properties.vaultUri}secrets/${clientSecretName}'
