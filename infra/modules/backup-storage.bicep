// The backup storage account, separate from the Functions runtime's. Half of the threat model
// lives here: whoever can write to this account must not be able to delete or rewrite backups.
// So: no shared key (Entra ID only), no public blob access, HTTPS and TLS 1.2 only, blob
// versioning, soft delete of blobs and containers, and version-level immutability with a default
// retention for every new version (unlocked by default, so it can be shortened while a team
// finds its rhythm; lock it once it is right).

@description('Name of the storage account (3-24 lowercase letters and digits, globally unique).')
param name string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('The container backups go to.')
param containerName string

@description('Resource id of the app\'s identity (names its role assignments: known when the deployment starts).')
param appIdentityId string

@description('Principal id of the app\'s identity (gets Storage Blob Data Contributor on the backup container only).')
param appPrincipalId string

@description('Days every blob version stays immutable after it is written (version-level WORM).')
@minValue(1)
@maxValue(146000)
param immutabilityDays int

@description('Lock the default immutability policy. A locked policy can only be lengthened, never removed: set it once the period is right.')
param lockImmutability bool

@description('Days deleted blobs and containers can be recovered (soft delete).')
@minValue(1)
@maxValue(365)
param softDeleteDays int

@description('Move backups to the Cool tier after this many days.')
@minValue(1)
param coolAfterDays int

@description('Delete previous (overwritten or deleted) blob versions this many days after they became previous; never before their immutability ends.')
@minValue(1)
param deleteOldVersionsAfterDays int

resource account 'Microsoft.Storage/storageAccounts@2024-01-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_ZRS'
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
    immutableStorageWithVersioning: {
      enabled: true
      immutabilityPolicy: {
        immutabilityPeriodSinceCreationInDays: immutabilityDays
        state: lockImmutability ? 'Locked' : 'Unlocked'
        allowProtectedAppendWrites: false
      }
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      services: {
        blob: {
          enabled: true
          keyType: 'Account'
        }
      }
    }
  }
}

resource blobs 'Microsoft.Storage/storageAccounts/blobServices@2024-01-01' = {
  parent: account
  name: 'default'
  properties: {
    isVersioningEnabled: true
    changeFeed: {
      enabled: true
      retentionInDays: softDeleteDays
    }
    deleteRetentionPolicy: {
      enabled: true
      days: softDeleteDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: softDeleteDays
    }
  }
}

resource container 'Microsoft.Storage/storageAccounts/blobServices/containers@2024-01-01' = {
  parent: blobs
  name: containerName
  properties: {
    publicAccess: 'None'
    immutableStorageWithVersioning: {
      enabled: true
    }
  }
}

resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2024-01-01' = {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'backups-to-cool'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                '${containerName}/'
              ]
            }
            actions: {
              baseBlob: {
                tierToCool: {
                  daysAfterModificationGreaterThan: coolAfterDays
                }
              }
            }
          }
        }
        {
          name: 'old-versions'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
            }
            actions: {
              version: {
                delete: {
                  daysAfterCreationGreaterThan: max(deleteOldVersionsAfterDays, immutabilityDays + 1)
                }
              }
            }
          }
        }
      ]
    }
  }
}

// Storage Blob Data Contributor, on the backup container only.
var blobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'

resource appCanWriteBackups 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(container.id, appIdentityId, blobDataContributor)
  scope: container
  properties: {
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', blobDataContributor)
  }
}

@description('Resource id of the account.')
output id string = account.id

@description('The blob endpoint (Sbk__Store__ServiceUri).')
output blobEndpoint string = account.properties.primaryEndpoints.blob
