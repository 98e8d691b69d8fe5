// The Function App's user-assigned managed identity. It exists, and main.bicep grants its roles,
// before the site is created: the first deployment's package upload (host storage) and the first
// read of the client secret's Key Vault reference both need the roles already in place. A
// system-assigned identity only exists with the site, so its roles would be granted after it, in a
// race with the deployment that follows (Azure/azure-functions-core-tools#4346).

param name string
param location string
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
