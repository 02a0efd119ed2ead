// An example deployment: one Aiven database backed up nightly, a Flexible Server for scratch
// copies and drills. Copy it, change the names, and deploy (docs/deploy.md).
using 'main.bicep'

param baseName = 'acmebk'
param alertEmail = 'ops@example.com'
param scratchServer = 'flexible'
param scratchPostgresVersion = '17'
param containerImage = ''
param catalogJson = '''
{
  "MasterKeySecret": "sbk-master-key",
  "Databases": {
    "app": {
      "ConnectionStringSecret": "app-db",
      "Schedule": "0 0 2 * * *",
      "TimeZone": "Europe/Berlin",
      "Objectives": { "RpoHours": 25, "RtoHours": 4 },
      "Retention": { "Daily": 7, "Weekly": 4, "Monthly": 12, "MinAgeHours": 24 },
      "Assertions": [ { "Name": "users exist", "Sql": "SELECT count(*) FROM users", "Expect": "AtLeast", "Value": "1" } ]
    }
  },
  "Notifications": { "Targets": [ { "Kind": "Slack", "UrlSecret": "slack-webhook" } ] },
  "Api": {
    "Keys": [ { "Name": "slack-bot", "KeySecret": "api-key-slack-bot" }, { "Name": "oncall", "KeySecret": "api-key-oncall" } ],
    "SlackSigningSecret": "slack-signing-secret"
  }
}
'''
