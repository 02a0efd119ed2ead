// The Functions runtime's own storage (AzureWebJobsStorage): timer locks, host state and the
// Durable task hub (queues, tables, blobs). Never the backup account. The app reaches it with its
// managed identity; shared keys are off here too.

@description('Name of the storage account (3-24 lowercase letters and digits, globally unique).')
param name string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Resource id of the app\'s identity (names its role assignments: known when the deployment starts).')
param appIdentityId string

@description('Principal id of the app\'s identity.')
param appPrincipalId string

resource account 'Microsoft.Storage/storageAccounts@2024-01-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
  }
}

// What the Functions host and the Durable Task Azure Storage backend need, on this account only:
// Storage Blob Data Owner (host leases and state), Storage Queue Data Contributor and Storage
// Table Data Contributor (the task hub's work-item queues and history tables).
var roles = [
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
]

resource appRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in roles: {
    name: guid(account.id, appIdentityId, role)
    scope: account
    properties: {
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    }
  }
]

@description('Name of the account (AzureWebJobsStorage__accountName).')
output name string = account.name
