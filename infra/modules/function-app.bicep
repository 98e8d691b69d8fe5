// The Function App on the Flex Consumption plan (Linux, Node 22), running as a user-assigned managed
// identity that main.bicep creates and grants its roles before this module runs. The host reaches
// its storage account by that identity (AzureWebJobsStorage__*), uploads and reads the deployment
// package with it, sends telemetry with it (local auth is off in Application Insights), and App
// Service resolves the Key Vault reference with it. The app's own settings arrive from main.bicep;
// this module adds only what the Functions host, the Node worker and @azure/identity read.

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

@description('Resource id of the user-assigned identity the app runs as (roles already granted).')
param identityId string

@description('Client id of that identity: the host, telemetry and @azure/identity pick it by this id.')
param identityClientId string

@description('Settings the app code reads (src/config.ts).')
param appSettings object

@allowed([2048, 4096])
param instanceMemoryMB int = 2048

@description('Flex Consumption accepts 1 to 1,000 (earlier 40 to 1,000).')
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

// What the Functions host, the Node worker and the Azure SDK read (not src/config.ts).
var hostAppSettings = {
  // Host storage by the user-assigned identity: credential and client id together.
  AzureWebJobsStorage__accountName: hostStorage.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=${identityClientId}'
  // DefaultAzureCredential (the lake, src/lake/storage/create-target.ts) takes the managed identity
  // with this client id; without it, it would ask for a system-assigned identity the site lacks.
  AZURE_CLIENT_ID: identityClientId
  // Process tuning, as src/common/process-tuning.ts measures it (a test compares): the flags on the
  // worker's command line, since NODE_OPTIONS set as an app setting reaches an already started
  // placeholder worker too late; worker arguments also start a fresh worker, which reads the glibc
  // variable. The heap limit is a quarter of the instance's memory.
  languageWorkers__node__arguments: '--max-old-space-size=${instanceMemoryMB / 4} --max-semi-space-size=4'
  MALLOC_MMAP_THRESHOLD_: '131072'
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references resolve with this identity (the default would be a system-assigned one).
    keyVaultReferenceIdentity: identityId
    // No ftpsState: Flex Consumption refuses it (FTP is off by the policies below).
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${hostStorage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identityId }
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

// No FTP and no basic-auth (publishing profile) deployments: azd deploys with Entra ID. One write
// to the site at a time (parallel child writes to one site can meet 409 Conflict).
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: { allow: false }
  dependsOn: [settings]
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: { allow: false }
  dependsOn: [ftpPublishing]
}

output name string = site.name
output defaultHostName string = site.properties.defaultHostName
