// Logs, telemetry and the two alerts a team needs: a backup failed, a database is late. The app
// writes a stable marker into those log lines ([sbk.backup-failed], [sbk.database-late]); the
// alerts search for it, so they fire whichever function (a timer, an HTTP-started operation)
// saw the failure. Application Insights accepts telemetry from Entra ID identities only.

@description('Base name of the resources.')
param name string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Resource id of the app\'s identity (names its role assignments: known when the deployment starts).')
param appIdentityId string

@description('Principal id of the app\'s identity (gets Monitoring Metrics Publisher, to send telemetry).')
param appPrincipalId string

@description('Where alert e-mails go.')
param alertEmail string

@description('Days logs are kept.')
@minValue(30)
@maxValue(730)
param retentionDays int

@description('Name of the Key Vault that keeps Application Insights\' connection string for the app.')
param keyVaultName string

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-${name}'
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionDays
    features: {
      enableLogAccessUsingOnlyResourcePermissions: true
    }
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${name}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
    IngestionMode: 'LogAnalytics'
  }
}

// Monitoring Metrics Publisher: send telemetry with an Entra ID token (local auth is off).
var metricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

resource appSendsTelemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(insights.id, appIdentityId, metricsPublisher)
  scope: insights
  properties: {
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', metricsPublisher)
  }
}

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' existing = {
  name: keyVaultName
}

// The connection string is not enough to send telemetry without an Entra ID token, but it is a
// connection string: it lives in Key Vault and the app reads it by reference, never as a setting.
resource connectionString 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = {
  parent: vault
  name: 'appinsights-connection-string'
  properties: {
    value: insights.properties.ConnectionString
    contentType: 'Application Insights connection string'
  }
}

resource team 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: 'ag-${name}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: take('sbk${name}', 12)
    enabled: true
    emailReceivers: [
      {
        name: 'team'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

var alerts = [
  {
    name: 'backup-failed'
    description: 'A backup failed (scheduled, or started over the API), or a timer function failed. The log line names the database and the next step.'
    severity: 1
    frequency: 'PT15M'
    window: 'PT15M'
    query: 'union (traces | where message has "[sbk.backup-failed]"), (requests | where success == false and name in ("RunDue-Timer", "Maintenance-Timer", "Drill-Timer"))'
  }
  {
    name: 'database-late'
    description: 'A database has no backup within its recovery point objective, or its last backup attempt failed (checked hourly by the Maintenance timer).'
    severity: 2
    frequency: 'PT1H'
    window: 'PT2H'
    query: 'traces | where message has "[sbk.database-late]"'
  }
]

resource rules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [
  for alert in alerts: {
    name: 'alert-${name}-${alert.name}'
    location: location
    tags: tags
    properties: {
      displayName: 'ServerlessBackup ${name}: ${alert.name}'
      description: alert.description
      severity: alert.severity
      enabled: true
      scopes: [
        insights.id
      ]
      evaluationFrequency: alert.frequency
      windowSize: alert.window
      autoMitigate: true
      criteria: {
        allOf: [
          {
            query: alert.query
            timeAggregation: 'Count'
            operator: 'GreaterThan'
            threshold: 0
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      actions: {
        actionGroups: [
          team.id
        ]
      }
    }
  }
]

@description('Resource id of the Log Analytics workspace.')
output workspaceId string = workspace.id

@description('Name of the Key Vault secret holding Application Insights\' connection string.')
output connectionStringSecretName string = connectionString.name
