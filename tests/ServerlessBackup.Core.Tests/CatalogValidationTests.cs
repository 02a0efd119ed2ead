using ServerlessBackup.Catalog;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Tests;

public sealed class CatalogValidationTests
{
    [Fact]
    public void Every_problem_of_a_catalog_is_named_at_once()
    {
        var options = new SbkOptions
        {
            Secrets = new SecretStoreOptions { Kind = "KeyVault" },
            Notifications = { Targets = { new NotificationTargetOptions { Kind = NotificationKind.Slack, UrlSecret = "https://hooks.slack.com/services/T/B/x" } } },
            Databases =
            {
                ["shop"] = new DatabaseOptions
                {
                    ConnectionStringSecret = "shop_db",
                    Schedule = "0 0 25 * * *",
                    TimeZone = "Mars/Olympus",
                    Retention = new RetentionOptions { Labels = { ["emergency"] = new LabelRetention() } },
                    Assertions = { new AssertionOptions { Name = "n", Sql = "SELECT 1", Expect = AssertionExpectation.AtLeast, Value = "many" } },
                },
            },
        };

        var ex = Assert.Throws<SbkException>(() => CatalogValidator.Validate(options, "test.json"));

        Assert.Equal(SbkErrorKind.Configuration, ex.Kind);
        foreach (var expected in new[]
        {
            "Secrets:VaultUri is not an https:// vault address",
            "Databases:shop:ConnectionStringSecret is not a valid Key Vault secret name",
            "Notifications:Targets:0:UrlSecret looks like a URL",
            "Databases:shop:Schedule: The schedule '0 0 25 * * *' is not a valid NCRONTAB expression: Hours: Value must be a number between 0 and 23",
            "Databases:shop:TimeZone 'Mars/Olympus' is not a known IANA time zone",
            "Databases:shop:Retention:Labels:emergency: give either KeepDays (more than 0) or KeepUntilReleased: true",
            "expects AtLeast but its Value is not a number",
        })
        {
            Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("hooks.slack.com", ex.Message, StringComparison.Ordinal);
    }
}
