// Key Vault for the master key, connection strings, API keys and webhook URLs. RBAC only (no
// access policies), soft delete and purge protection (a deleted master key would orphan every
// backup), and the app's identity may only read secrets. Seeding and key rotation are an
// operator's job, with Key Vault Secrets Officer (see docs/deploy.md).

@description('Name of the vault (3-24 letters, digits and dashes, globally unique).')
param name string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Resource id of the app\'s identity (names its role assignments: known when the deployment starts).')
param appIdentityId string

@description('Principal id of the app\'s identity (gets Key Vault Secrets User).')
param appPrincipalId string

@description('Principal ids (users or groups) that seed secrets and rotate the master key (get Key Vault Secrets Officer). May be empty: assign the role yourself.')
param operatorPrincipalIds array

@description('Days a deleted secret can be recovered.')
@minValue(7)
@maxValue(90)
param softDeleteDays int

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteDays
    enablePurgeProtection: true
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

// Key Vault Secrets User: read secret values, nothing else.
var secretsUser = '4633458b-17de-408a-b874-0445c86b69e6'

// Key Vault Secrets Officer: create and rotate secrets (operators only).
var secretsOfficer = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'

resource appReadsSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, appIdentityId, secretsUser)
  scope: vault
  properties: {
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsUser)
  }
}

resource operatorsManageSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for operator in operatorPrincipalIds: {
    name: guid(vault.id, operator, secretsOfficer)
    scope: vault
    properties: {
      principalId: operator
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsOfficer)
    }
  }
]

@description('Name of the vault.')
output name string = vault.name

@description('The vault URI (Sbk__Secrets__VaultUri).')
output uri string = vault.properties.vaultUri
