// The Function App on the Flex Consumption plan (Linux, Node 22), with a system-assigned managed
// identity. The host reaches its storage account by that identity (AzureWebJobsStorage__*), and
// sends telemetry to Application Insights with it (local auth is off there). The app's own
// settings arrive from main.bicep; this module adds only what the Functions host reads.

param name string
param planName string
param location string
param tags object = {}

@description('azd service name (azure.yaml): azd deploys the package to the site tagged with it.')
param serviceName string

param hostStorageAccountName string

@description('Blob container in the host storage account that holds the deployment package (Flex).')
param deploymentContainerName string

param applicationInsightsName string

@description('Settings the app code reads (src/config.ts).')
param appSettings object

@allowed([2048, 4096])
param instanceMemoryMB int = 2048

@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

resource hostStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: hostStorageAccountName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

// What the Functions host itself reads (not src/config.ts): host storage by identity, telemetry by identity.
var hostAppSettings = {
  AzureWebJobsStorage__accountName: hostStorage.name
  AzureWebJobsStorage__credential: 'managedidentity'
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD'
  // Process tuning for the Node worker, as src/common/process-tuning.ts measures it (a test compares):
  // the heap limit is a quarter of the instance's memory.
  NODE_OPTIONS: '--max-old-space-size=${instanceMemoryMB / 4} --max-semi-space-size=4'
  MALLOC_MMAP_THRESHOLD_: '131072'
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: { type: 'SystemAssigned' }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references resolve with the system-assigned identity (the default).
    keyVaultReferenceIdentity: 'SystemAssigned'
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${hostStorage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: { type: 'SystemAssignedIdentity' }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: { name: 'node', version: '22' }
    }
  }
}

// Set after the site exists, so the identity the settings rely on is there first.
resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: union(appSettings, hostAppSettings)
}

output name string = site.name
output principalId string = site.identity.principalId
output defaultHostName string = site.properties.defaultHostName
