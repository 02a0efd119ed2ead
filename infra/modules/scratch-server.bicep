// An optional scratch server for restores, verifications and drills: Azure Database for
// PostgreSQL Flexible Server, burstable. Its admin connection string goes straight into Key
// Vault (the secret the catalog names in Scratch:ConnectionStringSecret); it is never an output.

@description('Name of the server (globally unique).')
param name string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('PostgreSQL major version: at least the newest of the servers you back up.')
@allowed([
  '16'
  '17'
  '18'
])
param version string

@description('Compute size (Burstable).')
param skuName string

@description('Storage in GiB: room for the largest database restored at once, twice during a swap.')
@minValue(32)
param storageGiB int

@description('Name of the Key Vault that receives the admin connection string.')
param keyVaultName string

@description('Name of the secret that receives it (Scratch:ConnectionStringSecret).')
param secretName string

@description('The admin password. Generated on first deployment; it is only ever stored in Key Vault.')
@secure()
param administratorPassword string

var administratorLogin = 'sbkadmin'

resource server 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: 'Burstable'
  }
  properties: {
    version: version
    administratorLogin: administratorLogin
    administratorLoginPassword: administratorPassword
    authConfig: {
      passwordAuth: 'Enabled'
      activeDirectoryAuth: 'Disabled'
    }
    storage: {
      storageSizeGB: storageGiB
      autoGrow: 'Enabled'
    }
    backup: {
      backupRetentionDays: 7
      geoRedundantBackup: 'Disabled'
    }
    highAvailability: {
      mode: 'Disabled'
    }
    network: {
      publicNetworkAccess: 'Enabled'
    }
  }
}

// The app runs on Container Apps consumption without a fixed outbound address: allow Azure's own addresses.
resource azureServices 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2024-08-01' = {
  parent: server
  name: 'AllowAzureServices'
  properties: {
    startIpAddress: '0.0.0.0'
    endIpAddress: '0.0.0.0'
  }
}

resource tls 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2024-08-01' = {
  parent: server
  name: 'require_secure_transport'
  properties: {
    value: 'on'
    source: 'user-override'
  }
}

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' existing = {
  name: keyVaultName
}

resource adminConnection 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = {
  parent: vault
  name: secretName
  properties: {
    value: 'postgres://${administratorLogin}:${uriComponent(administratorPassword)}@${server.properties.fullyQualifiedDomainName}:5432/postgres?sslmode=require'
    contentType: 'PostgreSQL connection string (scratch server admin)'
  }
}

@description('The server\'s host name.')
output host string = server.properties.fullyQualifiedDomainName
