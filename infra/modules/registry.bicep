// The container registry the deploy workflow pushes the app's image to. No admin user: the app
// pulls with its managed identity (AcrPull), the workflow pushes with its own (AcrPush).

@description('Name of the registry (5-50 letters and digits, globally unique).')
param name string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Resource id of the app\'s identity (names its role assignments: known when the deployment starts).')
param appIdentityId string

@description('Principal id of the app\'s identity (gets AcrPull).')
param appPrincipalId string

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Basic'
  }
  properties: {
    adminUserEnabled: false
    publicNetworkAccess: 'Enabled'
  }
}

// AcrPull: pull images, nothing else.
var acrPull = '7f951dda-4ed3-4680-a7ca-43fe172d538d'

resource appPulls 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, appIdentityId, acrPull)
  scope: registry
  properties: {
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPull)
  }
}

@description('The registry\'s login server (<name>.azurecr.io).')
output loginServer string = registry.properties.loginServer

@description('Name of the registry.')
output name string = registry.name
