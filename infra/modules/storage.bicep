// A storage account reachable only with Entra ID: shared key (account keys, SAS signed by them) is
// disabled, no anonymous blob access, HTTPS with TLS 1.2 or newer. Used twice: the Functions host
// account (flat namespace, and the events queues) and the lake (ADLS Gen2, hierarchical namespace).

param name string
param location string
param tags object = {}

@description('ADLS Gen2 hierarchical namespace: true for the lake (real folders, atomic renames, ACLs).')
param isHnsEnabled bool = false

@description('Blob containers (ADLS Gen2 file systems) to create.')
param containers string[] = []

@description('Storage queues to create (the events queue and its poison queue, in the host account).')
param queues string[] = []

@description('Days a deleted blob or container can be restored (0 turns soft delete off).')
param softDeleteDays int = 7

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    isHnsEnabled: isHnsEnabled
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: { defaultAction: 'Allow', bypass: 'AzureServices' }
  }

  resource blobService 'blobServices' = {
    name: 'default'
    properties: {
      deleteRetentionPolicy: { enabled: softDeleteDays > 0, days: max(softDeleteDays, 1) }
      containerDeleteRetentionPolicy: { enabled: softDeleteDays > 0, days: max(softDeleteDays, 1) }
    }

    resource container 'containers' = [
      for containerName in containers: {
        name: containerName
        properties: { publicAccess: 'None' }
      }
    ]
  }
}

// Declared only where queues are asked for: the lake account has no use for its queue service.
resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = if (!empty(queues)) {
  parent: account
  name: 'default'
}

resource queue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [
  for queueName in queues: {
    parent: queueService
    name: queueName
    properties: { metadata: {} }
  }
]

output name string = account.name
output id string = account.id
output blobEndpoint string = account.properties.primaryEndpoints.blob
output queueEndpoint string = account.properties.primaryEndpoints.queue
output dfsEndpoint string = isHnsEnabled ? account.properties.primaryEndpoints.dfs : ''
