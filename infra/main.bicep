// ServerlessBackup in one resource group: the Functions app as a container on Azure Container
// Apps (with the PostgreSQL client inside), a backup storage account that an attacker with write
// access cannot empty (immutability, versioning, soft delete, no shared key), Key Vault for every
// secret, a user-assigned identity with only the roles it needs, monitoring with two alerts, and
// optionally a scratch PostgreSQL server. See docs/deploy.md for the why of each choice.
targetScope = 'resourceGroup'

@description('Short name for this deployment (3-11 lowercase letters and digits); resource names are made from it.')
@minLength(3)
@maxLength(11)
param baseName string

@description('Azure region for every resource.')
param location string = resourceGroup().location

@description('The app\'s image in this deployment\'s registry (<registry>.azurecr.io/serverlessbackup:<tag>). Empty: deploy everything but the app (the first run, before an image exists).')
param containerImage string = ''

@description('The catalog as JSON, as in sbk.json (Databases, Notifications, Api, Scratch, Dump...). It names secrets, never holds one. Store, Secrets and the schedules are set by this template.')
param catalogJson string = '{}'

@description('Where alert e-mails go (a backup failed, a database is late).')
param alertEmail string

@description('Principal ids of the people or groups who seed secrets and rotate the master key (Key Vault Secrets Officer). Empty: assign the role yourself.')
param operatorPrincipalIds array = []

@description('When the RunDue timer looks for due databases (NCRONTAB, six fields).')
param runDueSchedule string = '0 */5 * * * *'

@description('When the Maintenance timer prunes, sweeps scratch databases and checks freshness.')
param maintenanceSchedule string = '0 17 * * * *'

@description('When the Drill timer runs a restore drill of every database (default: quarterly).')
param drillSchedule string = '0 0 3 1 1,4,7,10 *'

@description('Backups run-due takes at once.')
@minValue(1)
@maxValue(32)
param maxParallelBackups int = 2

@description('Days every blob version in the backup account stays immutable after it is written. Retention cannot delete a backup before this; nor can anyone else.')
@minValue(1)
param immutabilityDays int = 7

@description('Lock the backup account\'s default immutability policy (irreversible: it can then only be lengthened).')
param lockImmutability bool = false

@description('Days deleted blobs and containers of the backup account stay recoverable.')
@minValue(1)
@maxValue(365)
param softDeleteDays int = 14

@description('Days after which backups move to the Cool tier.')
@minValue(1)
param coolAfterDays int = 30

@description('Days after which overwritten or deleted blob versions are removed (never before their immutability ends).')
@minValue(1)
param deleteOldVersionsAfterDays int = 30

@description('none: use an existing scratch server named by Scratch:ConnectionStringSecret in the catalog. flexible: create an Azure Database for PostgreSQL Flexible Server (burstable) and store its admin connection string in Key Vault.')
@allowed([
  'none'
  'flexible'
])
param scratchServer string = 'none'

@description('PostgreSQL major version of the created scratch server: at least the newest of your servers.')
@allowed([
  '16'
  '17'
  '18'
])
param scratchPostgresVersion string = '17'

@description('Compute size of the created scratch server.')
param scratchSku string = 'Standard_B1ms'

@description('Storage of the created scratch server, GiB.')
@minValue(32)
param scratchStorageGiB int = 32

@description('Admin password of the created scratch server. Leave the default: a new random one each deployment, kept only in Key Vault.')
@secure()
param scratchAdministratorPassword string = newGuid()

@description('vCPUs of the app\'s container (pg_dump and compression run here).')
param containerCpu string = '1.0'

@description('Memory of the app\'s container.')
param containerMemory string = '2Gi'

@description('Most replicas the app scales out to.')
@minValue(1)
@maxValue(30)
param maxReplicas int = 3

@description('Days logs are kept.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

var suffix = uniqueString(resourceGroup().id, baseName)
var tags = {
  application: 'ServerlessBackup'
  deployment: baseName
}
var backupContainer = 'backups'
var scratchSecretName = 'scratch-admin'

// The app's one identity, user-assigned so that its roles exist before the app does and survive a redeployment of it.
resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${baseName}'
  location: location
  tags: tags
}

var vaultName = take('kv-${baseName}-${suffix}', 24)

module backups 'modules/backup-storage.bicep' = {
  name: 'backup-storage'
  params: {
    name: take('stbk${baseName}${suffix}', 24)
    location: location
    tags: tags
    containerName: backupContainer
    appIdentityId: identity.id
    appPrincipalId: identity.properties.principalId
    immutabilityDays: immutabilityDays
    lockImmutability: lockImmutability
    softDeleteDays: softDeleteDays
    coolAfterDays: coolAfterDays
    deleteOldVersionsAfterDays: deleteOldVersionsAfterDays
  }
}

module runtime 'modules/runtime-storage.bicep' = {
  name: 'runtime-storage'
  params: {
    name: take('strt${baseName}${suffix}', 24)
    location: location
    tags: tags
    appIdentityId: identity.id
    appPrincipalId: identity.properties.principalId
  }
}

module vault 'modules/key-vault.bicep' = {
  name: 'key-vault'
  params: {
    name: vaultName
    location: location
    tags: tags
    appIdentityId: identity.id
    appPrincipalId: identity.properties.principalId
    operatorPrincipalIds: operatorPrincipalIds
    softDeleteDays: 90
  }
}

module registry 'modules/registry.bicep' = {
  name: 'registry'
  params: {
    name: take('cr${baseName}${suffix}', 50)
    location: location
    tags: tags
    appIdentityId: identity.id
    appPrincipalId: identity.properties.principalId
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    name: baseName
    location: location
    tags: tags
    appIdentityId: identity.id
    appPrincipalId: identity.properties.principalId
    alertEmail: alertEmail
    retentionDays: logRetentionDays
    keyVaultName: vaultName
  }
  dependsOn: [
    vault
  ]
}

module scratch 'modules/scratch-server.bicep' = if (scratchServer == 'flexible') {
  name: 'scratch-server'
  params: {
    name: 'psql-${baseName}-${suffix}'
    location: location
    tags: tags
    version: scratchPostgresVersion
    skuName: scratchSku
    storageGiB: scratchStorageGiB
    keyVaultName: vaultName
    secretName: scratchSecretName
    administratorPassword: scratchAdministratorPassword
  }
  dependsOn: [
    vault
  ]
}

resource environment 'Microsoft.App/managedEnvironments@2025-07-01' = {
  name: 'cae-${baseName}'
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: {
      destination: 'azure-monitor'
    }
    workloadProfiles: [
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
    ]
    zoneRedundant: false
  }
}

resource environmentLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: environment
  properties: {
    workspaceId: monitoring.outputs.workspaceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
  }
}

// What the app reads: the Functions runtime's settings, then the catalog (Sbk__*). The names are
// checked by the tests against the app's own configuration binding (no setting the app does not
// read, none it needs missing).
var runtimeSettings = [
  { name: 'FUNCTIONS_WORKER_RUNTIME', value: 'dotnet-isolated' }
  { name: 'FUNCTIONS_EXTENSION_VERSION', value: '~4' }
  { name: 'AzureWebJobsStorage__accountName', value: runtime.outputs.name }
  { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
  { name: 'AzureWebJobsStorage__clientId', value: identity.properties.clientId }
  { name: 'AZURE_CLIENT_ID', value: identity.properties.clientId }
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', secretRef: 'appinsights-connection-string' }
  { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identity.properties.clientId};Authorization=AAD' }
]
var catalogSettings = concat(
  [
    { name: 'Sbk__RunDueSchedule', value: runDueSchedule }
    { name: 'Sbk__MaintenanceSchedule', value: maintenanceSchedule }
    { name: 'Sbk__DrillSchedule', value: drillSchedule }
    { name: 'Sbk__MaxParallelBackups', value: string(maxParallelBackups) }
    { name: 'Sbk__Store__Kind', value: 'AzureBlob' }
    { name: 'Sbk__Store__ServiceUri', value: backups.outputs.blobEndpoint }
    { name: 'Sbk__Store__Container', value: backupContainer }
    { name: 'Sbk__Secrets__Kind', value: 'KeyVault' }
    { name: 'Sbk__Secrets__VaultUri', value: vault.outputs.uri }
    { name: 'Sbk__Secrets__ManagedIdentityClientId', value: identity.properties.clientId }
    { name: 'Sbk__Json', value: catalogJson }
  ],
  scratchServer == 'flexible' ? [{ name: 'Sbk__Scratch__ConnectionStringSecret', value: scratchSecretName }] : []
)

resource app 'Microsoft.App/containerApps@2025-07-01' = if (!empty(containerImage)) {
  name: 'func-${baseName}'
  location: location
  tags: tags
  kind: 'functionapp'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    managedEnvironmentId: environment.id
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        targetPort: 80
        transport: 'auto'
        allowInsecure: false
        traffic: [
          {
            latestRevision: true
            weight: 100
          }
        ]
      }
      registries: [
        {
          server: registry.outputs.loginServer
          identity: identity.id
        }
      ]
      secrets: [
        {
          name: 'appinsights-connection-string'
          keyVaultUrl: '${vault.outputs.uri}secrets/${monitoring.outputs.connectionStringSecretName}'
          identity: identity.id
        }
      ]
    }
    template: {
      containers: [
        {
          name: 'functions'
          image: containerImage
          resources: {
            cpu: json(containerCpu)
            memory: containerMemory
          }
          env: concat(runtimeSettings, catalogSettings)
          probes: [
            {
              // The process answers; /api/health is freshness (503 when a database is late), not liveness.
              type: 'Liveness'
              tcpSocket: {
                port: 80
              }
              periodSeconds: 30
              failureThreshold: 3
            }
          ]
        }
      ]
      scale: {
        // The Durable Task Azure Storage backend cannot wake a replica from zero: keep one.
        minReplicas: 1
        maxReplicas: maxReplicas
      }
    }
  }
}

@description('The app\'s base URL (its API is under /api).')
output appUrl string = empty(containerImage) ? '' : 'https://${app!.properties.configuration.ingress.fqdn}'

@description('Where the deploy workflow pushes the image.')
output registryLoginServer string = registry.outputs.loginServer

@description('Name of the registry (az acr login --name).')
output registryName string = registry.outputs.name

@description('Name of the Key Vault to seed (sbk keys init, sbk secrets set).')
output keyVaultName string = vault.outputs.name

@description('The vault URI, for an operator\'s sbk.json.')
output keyVaultUri string = vault.outputs.uri

@description('The backup account\'s blob endpoint, for an operator\'s sbk.json.')
output backupServiceUri string = backups.outputs.blobEndpoint

@description('Client id of the app\'s identity.')
output appClientId string = identity.properties.clientId
