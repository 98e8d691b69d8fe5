// referrals-lake on Azure, for `azd up`: a Function App on Flex Consumption (Linux, Node 22) that
// exports Partner Center referrals into an ADLS Gen2 lake, with Key Vault for the client secret and
// Application Insights (on Log Analytics) for logs. Every connection is by managed identity: no
// account key, connection string with a key, or secret is a parameter default or an output.

targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; names the resource group and seeds resource names.')
param environmentName string

@minLength(1)
@description('Azure region of every resource (one that offers Flex Consumption).')
param location string

// ---- Partner Center app registration ----------------------------------------------------------

@description('The partner\'s Entra ID tenant (GUID or domain): PARTNER_CENTER_TENANT_ID.')
@minLength(1)
param partnerCenterTenantId string

@description('Application (client) id of the app registration: PARTNER_CENTER_CLIENT_ID.')
@minLength(1)
param partnerCenterClientId string

@secure()
@description('Client secret of the app registration, stored in Key Vault only; empty keeps the stored one.')
param partnerCenterClientSecret string = ''

param partnerCenterApiBaseUrl string = 'https://api.partner.microsoft.com'
param partnerCenterAuthorityHost string = 'https://login.microsoftonline.com'
param partnerCenterWebhooksBaseUrl string = 'https://api.partnercenter.microsoft.com'
@description('Hosts the signing certificate URL of a Partner Center webhook event may name: PARTNER_CENTER_WEBHOOKS_CERT_HOSTS.')
param partnerCenterWebhooksCertHosts string = '3psostorageacct.blob.core.windows.net'
@description('The O= a webhook signing certificate\'s issuer must have: PARTNER_CENTER_WEBHOOKS_CERT_ISSUER_ORG.')
param partnerCenterWebhooksCertIssuerOrg string = 'Microsoft Corporation'
@description('anchored: the signing certificate must chain to a trusted root; partial: the allowlisted TLS download may vouch for a missing issuer.')
@allowed(['anchored', 'partial'])
param partnerCenterWebhooksCertChain string = 'partial'
@description('Referral events older than this (minutes) are answered 200 and not queued: PARTNER_CENTER_WEBHOOKS_MAX_EVENT_AGE_MINUTES.')
param partnerCenterWebhooksMaxEventAgeMinutes string = '1440'
param partnerCenterScope string = 'https://api.partner.microsoft.com/user_impersonation'
param partnerCenterRequestTimeoutSeconds string = '60'
param partnerCenterMaxAttempts string = '8'
param partnerCenterMaxRetrySeconds string = '600'

@description('The user whose cached account the app uses, when the token cache holds several for the tenant: PARTNER_CENTER_USERNAME (empty: the only one).')
param partnerCenterUsername string = ''

// ---- Lake and sync ----------------------------------------------------------------------------

@description('Container (ADLS Gen2 file system) of the lake: LAKE_CONTAINER.')
param lakeContainerName string = 'referrals-lake'

@description('Folder inside the container for every table: LAKE_PREFIX (empty: the container root).')
param lakePrefix string = ''

@description('NCRONTAB schedule of the sync timer, UTC, seconds first: SYNC_SCHEDULE.')
param syncSchedule string = '0 0 6 * * *'

@allowed(['full', 'incremental'])
param syncMode string = 'full'

param syncConcurrency string = '4'
param syncPageSize string = '100'

@allowed(['createdDateTime', 'updatedDateTime'])
param syncRangeField string = 'createdDateTime'

param syncOverlapMinutes string = '60'
param syncLeaseSeconds string = '60'

@description('Days earlier versions of the Delta tables stay readable: LAKE_RETENTION_DAYS.')
param lakeRetentionDays string = '7'

@description('Share of referrals_latest a full run may remove before it is refused: SYNC_MAX_VANISH_FRACTION.')
param syncMaxVanishFraction string = '0.2'

// ---- Events (issue 20) ------------------------------------------------------------------------

@minLength(3)
@maxLength(56)
@description('Queue of Partner Center events in the host storage account, beside its <name>-poison queue: EVENTS_QUEUE_NAME.')
param eventsQueueName string = 'referral-events'

@description('The worker applies queued events at most once per this many seconds: EVENTS_FLUSH_SECONDS.')
param eventsFlushSeconds string = '30'

@description('true lets the write routes change referrals in Partner Center (off by default): LIVE_WRITES_ENABLED.')
@allowed(['true', 'false'])
param liveWritesEnabled string = 'false'

// ---- Hosting ----------------------------------------------------------------------------------

@allowed([2048, 4096])
param instanceMemoryMB int = 2048

@description('Flex Consumption accepts 1 to 1,000 (earlier 40 to 1,000; its default, when unset, is 100); a daily sync needs one instance.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

// ---- Access -----------------------------------------------------------------------------------

@description('Object id of the deploying principal (azd sets AZURE_PRINCIPAL_ID).')
param principalId string = ''

@description('Grant the deploying principal the lake and secret roles (first login, secret rotation); off by default: docs/security.md.')
param grantDeployerAccess bool = false

@allowed(['User', 'ServicePrincipal', 'Group'])
param principalType string = 'User'

// ---- Names ------------------------------------------------------------------------------------

var tags = { 'azd-env-name': environmentName }
var token = toLower(uniqueString(subscription().id, environmentName, location))
var serviceName = 'referrals-lake'
var functionAppName = 'func-${token}'
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}'
// The events queue and the poison queue its trigger moves failed messages to (suffix: src/config.ts).
var eventsQueues = [eventsQueueName, '${eventsQueueName}-poison']

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-${token}'
    applicationInsightsName: 'appi-${token}'
    location: location
    tags: tags
  }
}

module hostStorage 'modules/storage.bicep' = {
  name: 'host-storage'
  scope: rg
  params: {
    name: 'st${token}'
    location: location
    tags: tags
    containers: [deploymentContainerName]
    queues: eventsQueues
  }
}

module lakeStorage 'modules/storage.bicep' = {
  name: 'lake-storage'
  scope: rg
  params: {
    name: 'stlake${token}'
    location: location
    tags: tags
    isHnsEnabled: true
    containers: [lakeContainerName]
  }
}

module vault 'modules/key-vault.bicep' = {
  name: 'key-vault'
  scope: rg
  params: {
    name: 'kv-${token}'
    location: location
    tags: tags
    clientSecretValue: partnerCenterClientSecret
  }
}

// Every setting src/config.ts reads that Azure needs (test/infra/settings.test.ts checks the list).
// Not set on purpose: LAKE_CONNECTION_STRING, LAKE_LOCAL_DIR and EVENTS_QUEUE (they would override
// the managed identity lake and queue), PARTNER_CENTER_REFRESH_TOKEN (first login writes the token
// cache into the lake instead), PARTNER_CENTER_CLIENT_CERTIFICATE_FILE and PARTNER_CENTER_CA_FILE
// (local files).
var codeAppSettings = {
  PARTNER_CENTER_API_BASE_URL: partnerCenterApiBaseUrl
  PARTNER_CENTER_WEBHOOKS_BASE_URL: partnerCenterWebhooksBaseUrl
  PARTNER_CENTER_WEBHOOKS_CERT_HOSTS: partnerCenterWebhooksCertHosts
  PARTNER_CENTER_WEBHOOKS_CERT_ISSUER_ORG: partnerCenterWebhooksCertIssuerOrg
  PARTNER_CENTER_WEBHOOKS_CERT_CHAIN: partnerCenterWebhooksCertChain
  PARTNER_CENTER_WEBHOOKS_MAX_EVENT_AGE_MINUTES: partnerCenterWebhooksMaxEventAgeMinutes
  PARTNER_CENTER_AUTHORITY_HOST: partnerCenterAuthorityHost
  PARTNER_CENTER_TENANT_ID: partnerCenterTenantId
  PARTNER_CENTER_CLIENT_ID: partnerCenterClientId
  PARTNER_CENTER_CLIENT_SECRET: '@Microsoft.KeyVault(SecretUri=${vault.outputs.clientSecretUri})'
  PARTNER_CENTER_SCOPE: partnerCenterScope
  PARTNER_CENTER_TOKEN_CACHE: 'lake'
  PARTNER_CENTER_USERNAME: partnerCenterUsername
  PARTNER_CENTER_REQUEST_TIMEOUT_SECONDS: partnerCenterRequestTimeoutSeconds
  PARTNER_CENTER_MAX_ATTEMPTS: partnerCenterMaxAttempts
  PARTNER_CENTER_MAX_RETRY_SECONDS: partnerCenterMaxRetrySeconds
  LAKE_ACCOUNT_URL: lakeStorage.outputs.blobEndpoint
  LAKE_CONTAINER: lakeContainerName
  LAKE_PREFIX: lakePrefix
  SYNC_SCHEDULE: syncSchedule
  SYNC_MODE: syncMode
  SYNC_CONCURRENCY: syncConcurrency
  SYNC_PAGE_SIZE: syncPageSize
  SYNC_RANGE_FIELD: syncRangeField
  SYNC_OVERLAP_MINUTES: syncOverlapMinutes
  SYNC_LEASE_SECONDS: syncLeaseSeconds
  LAKE_RETENTION_DAYS: lakeRetentionDays
  SYNC_MAX_VANISH_FRACTION: syncMaxVanishFraction
  // The events queue by the app's user-assigned identity: the worker's queue trigger reads these
  // (its connection is EVENTS_QUEUE) and so does the receiver's enqueue (src/config.ts).
  EVENTS_QUEUE__queueServiceUri: hostStorage.outputs.queueEndpoint
  EVENTS_QUEUE__credential: 'managedidentity'
  EVENTS_QUEUE__clientId: appIdentity.outputs.clientId
  EVENTS_QUEUE_NAME: eventsQueueName
  EVENTS_FLUSH_SECONDS: eventsFlushSeconds
  LIVE_WRITES_ENABLED: liveWritesEnabled
}

// The identity and its roles come first; the site is created only after both (dependsOn below).
module appIdentity 'modules/identity.bicep' = {
  name: 'app-identity'
  scope: rg
  params: {
    name: 'id-${token}'
    location: location
    tags: tags
  }
}

module access 'modules/role-assignments.bicep' = {
  name: 'role-assignments'
  scope: rg
  params: {
    functionPrincipalId: appIdentity.outputs.principalId
    hostStorageAccountName: hostStorage.outputs.name
    eventsQueueNames: eventsQueues
    lakeStorageAccountName: lakeStorage.outputs.name
    lakeContainerName: lakeContainerName
    keyVaultName: vault.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    deployerPrincipalId: principalId
    deployerPrincipalType: principalType
    grantDeployerAccess: grantDeployerAccess
  }
}

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  scope: rg
  params: {
    name: functionAppName
    planName: 'plan-${token}'
    location: location
    tags: tags
    serviceName: serviceName
    hostStorageAccountName: hostStorage.outputs.name
    deploymentContainerName: deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    identityId: appIdentity.outputs.id
    identityClientId: appIdentity.outputs.clientId
    appSettings: codeAppSettings
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
  }
  // Roles before the site: the first package upload and Key Vault reference need them.
  dependsOn: [access]
}

// Names and endpoints only (azd writes them to .azure/<env>/.env); nothing here is a credential.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = subscription().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_KEY_VAULT_NAME string = vault.outputs.name
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
output LOG_ANALYTICS_WORKSPACE_ID string = monitoring.outputs.logAnalyticsWorkspaceId
output LAKE_STORAGE_ACCOUNT_NAME string = lakeStorage.outputs.name
output LAKE_ACCOUNT_URL string = lakeStorage.outputs.blobEndpoint
output LAKE_DFS_URL string = lakeStorage.outputs.dfsEndpoint
output LAKE_CONTAINER string = lakeContainerName
output LAKE_PREFIX string = lakePrefix
