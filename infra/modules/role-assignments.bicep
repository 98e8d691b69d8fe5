// Least-privilege role assignments, each at the narrowest scope that works:
//
// Function App identity (user-assigned, granted before the site exists: main.bicep)
// - Storage Blob Data Contributor on the lake *container* (not the account): the sync reads and
//   writes blobs (tables, raw, _runs, _state incl. the MSAL token cache, the lease) and nothing else.
//   Owner would add ACL management, which the code never does.
// - Storage Blob Data Owner on the *host* storage account: what Microsoft documents for an
//   identity-based AzureWebJobsStorage connection (host locks, timer status, keys) and for the Flex
//   Consumption deployment container. The account holds only host state and the package.
// - Storage Queue Data Contributor on each events queue (the queue and its poison queue in the host
//   account), not the account: the receiver sends, the worker's trigger reads, deletes and moves
//   failed messages to the poison queue, and both create the queues if absent. Microsoft lists
//   Queue Data Reader + Message Processor for a trigger and Contributor for output; the poison move
//   and the create need Contributor.
// - Key Vault Secrets User on the vault: read secret values (the Key Vault reference); the vault is
//   this app's own and holds only its client secret.
// - Monitoring Metrics Publisher on Application Insights: send telemetry with Entra auth.
//
// Deployer (only with grantDeployerAccess, off by default): Storage Blob Data Contributor on the lake
// container for the first `referrals-lake login` (it writes _state/msal-token-cache.json) and CLI
// backfills, and Key Vault Secrets Officer to set or rotate the client secret. Off by default so
// that an `azd provision` never grants again what docs/security.md tells the operator to remove
// (the lake role reads the refresh token under _state/). Turned off again, the parameter does not
// delete assignments an earlier provision made: remove those with `az role assignment delete`.
//
// Analysts get NO role here on purpose: any read role on the lake container also reads
// _state/msal-token-cache.json, the signed-in user's refresh token. Give them ADLS Gen2 ACLs on
// the table folders instead (docs/security.md).

param functionPrincipalId string
param hostStorageAccountName string

@description('Queues in the host storage account the app sends to and triggers on (events queue, poison queue).')
param eventsQueueNames string[] = []

param lakeStorageAccountName string
param lakeContainerName string
param keyVaultName string
param applicationInsightsName string

@description('Object id of the deploying user or CI principal; empty grants nothing.')
param deployerPrincipalId string = ''

@description('Grant the deployer the lake and secret roles (first sign-in, secret rotation).')
param grantDeployerAccess bool = false

@allowed(['User', 'ServicePrincipal', 'Group'])
param deployerPrincipalType string = 'User'

var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

resource hostStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: hostStorageAccountName

  resource queueService 'queueServices' existing = {
    name: 'default'
  }
}

resource eventsQueues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' existing = [
  for queueName in eventsQueueNames: {
    parent: hostStorage::queueService
    name: queueName
  }
]

resource lake 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: lakeStorageAccountName

  resource blobService 'blobServices' existing = {
    name: 'default'

    resource container 'containers' existing = {
      name: lakeContainerName
    }
  }
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource functionLake 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(lake::blobService::container.id, functionPrincipalId, roles.storageBlobDataContributor)
  scope: lake::blobService::container
  properties: {
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
  }
}

resource functionHostStorage 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, functionPrincipalId, roles.storageBlobDataOwner)
  scope: hostStorage
  properties: {
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
  }
}

resource functionEventsQueues 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for i in range(0, length(eventsQueueNames)): {
    name: guid(eventsQueues[i].id, functionPrincipalId, roles.storageQueueDataContributor)
    scope: eventsQueues[i]
    properties: {
      principalId: functionPrincipalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    }
  }
]

resource functionSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, functionPrincipalId, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
  }
}

resource functionTelemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, functionPrincipalId, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
  }
}

resource deployerLake 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grantDeployerAccess && !empty(deployerPrincipalId)) {
  name: guid(lake::blobService::container.id, deployerPrincipalId, roles.storageBlobDataContributor)
  scope: lake::blobService::container
  properties: {
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
  }
}

resource deployerSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grantDeployerAccess && !empty(deployerPrincipalId)) {
  name: guid(vault.id, deployerPrincipalId, roles.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
  }
}
