using System.Text;
using Microsoft.Extensions.Configuration;
using ServerlessBackup.Catalog;
using ServerlessBackup.Errors;
using ServerlessBackup.Hosting;

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

    [Theory]
    [InlineData("""{"Store": {"Kind": "S3"}}""", "Store:Kind is 'S3'; it takes one of FileSystem, AzureBlob.")]
    [InlineData("""{"MaxParallelBackups": "abc"}""", "MaxParallelBackups is 'abc'; it takes a whole number.")]
    [InlineData("""{"Scratch": {"AllowSourceServer": "yes"}}""", "Scratch:AllowSourceServer is 'yes'; it takes true or false.")]
    [InlineData("""{"Databases": {"shop": {"ConnectionStringSecret": "shop-db", "RestoreJobs": "two"}}}""", "Databases:shop:RestoreJobs is 'two'; it takes a whole number.")]
    [InlineData("""{"Databases": {"shop": {"ConnectionStringSecret": "shop-db", "Assertions": [{"Name": "a", "Sql": "SELECT 1", "Expect": "Maybe"}]}}}""", "Databases:shop:Assertions:0:Expect is 'Maybe'; it takes one of NoRows, Equals, AtLeast, AtMost.")]
    public void A_value_of_the_wrong_kind_is_named_with_what_it_takes_even_inside_a_database_entry(string json, string expected)
    {
        var configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build();

        var ex = Assert.Throws<SbkException>(() => SbkConfiguration.Bind(configuration, "test.json"));

        Assert.Equal(SbkErrorKind.Configuration, ex.Kind);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("ServerlessBackup.", ex.Message, StringComparison.Ordinal);
    }
}
