using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ServerlessBackup.Catalog;
using ServerlessBackup.Functions;
using ServerlessBackup.Tests.Infrastructure;

namespace ServerlessBackup.Tests;

/// <summary>
/// infra/ compiled, linted and snapshotted with the real Bicep CLI (no Azure here: what a
/// deployment would create is checked from the snapshot), so that an edit that weakens a security
/// property, grants a role too many, leaks a secret into an output or a setting, or writes an app
/// setting the app does not read fails the build.
/// </summary>
public sealed partial class InfraTests
{
    private const string Parameters = """
        param baseName = 'acmebk'
        param alertEmail = 'ops@example.com'
        param containerImage = 'cracmebk.azurecr.io/serverlessbackup:1'
        param scratchServer = 'flexible'
        param operatorPrincipalIds = ['11111111-1111-1111-1111-111111111111']
        param catalogJson = '{ "Databases": { "app": { "ConnectionStringSecret": "app-db", "Schedule": "0 0 2 * * *" } }, "Api": { "Keys": [ { "Name": "slack-bot", "KeySecret": "api-key-slack-bot" } ] } }'
        """;

    private static readonly Lazy<Task<JsonElement>> Snapshot = new(() => Bicep.SnapshotAsync(Parameters));

    private static async Task<List<JsonElement>> ResourcesAsync(string type) =>
        (await Snapshot.Value).GetProperty("predictedResources").EnumerateArray().Where(r => r.GetProperty("type").GetString() == type).ToList();

    [Fact]
    public async Task The_Bicep_compiles_and_lints_without_a_warning_and_the_linter_treats_its_rules_as_errors()
    {
        var dir = Bicep.CopyInfra();
        try
        {
            var lint = await Bicep.RunAsync(dir, "lint", "main.bicep");
            Assert.True(lint.ExitCode == 0 && lint.Output.Trim().Length == 0, lint.Output);
            var build = await Bicep.RunAsync(dir, "build", "main.bicep", "--stdout");
            Assert.True(build.ExitCode == 0, build.Output);
            Assert.DoesNotContain("Warning", build.Output, StringComparison.Ordinal);
            var parameters = await Bicep.RunAsync(dir, "build-params", "main.bicepparam", "--stdout");
            Assert.True(parameters.ExitCode == 0, parameters.Output);
            Assert.DoesNotContain("Warning", parameters.Output, StringComparison.Ordinal);

            // The configuration is in force: an unused parameter is an error, not a warning.
            await File.WriteAllTextAsync(Path.Combine(dir, "careless.bicep"), "param unused string\n");
            var careless = await Bicep.RunAsync(dir, "lint", "careless.bicep");
            Assert.NotEqual(0, careless.ExitCode);
            Assert.Contains("Error no-unused-params", careless.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task The_backup_account_takes_no_shared_key_no_anonymous_reader_no_plain_HTTP_and_keeps_every_version_immutable()
    {
        var accounts = await ResourcesAsync("Microsoft.Storage/storageAccounts");
        Assert.Equal(2, accounts.Count);
        foreach (var a in accounts)
        {
            var p = a.GetProperty("properties");
            Assert.False(p.GetProperty("allowBlobPublicAccess").GetBoolean());
            Assert.False(p.GetProperty("allowSharedKeyAccess").GetBoolean());
            Assert.Equal("TLS1_2", p.GetProperty("minimumTlsVersion").GetString());
            Assert.True(p.GetProperty("supportsHttpsTrafficOnly").GetBoolean());
            Assert.False(p.GetProperty("allowCrossTenantReplication").GetBoolean());
        }

        var backup = Assert.Single(accounts, a => a.GetProperty("properties").TryGetProperty("immutableStorageWithVersioning", out _));
        var worm = backup.GetProperty("properties").GetProperty("immutableStorageWithVersioning");
        Assert.True(worm.GetProperty("enabled").GetBoolean());
        Assert.Equal(7, worm.GetProperty("immutabilityPolicy").GetProperty("immutabilityPeriodSinceCreationInDays").GetInt32());
        Assert.Equal("Unlocked", worm.GetProperty("immutabilityPolicy").GetProperty("state").GetString());
        var backupName = backup.GetProperty("name").GetString()!;

        var service = Assert.Single(await ResourcesAsync("Microsoft.Storage/storageAccounts/blobServices"), s => s.GetProperty("id").GetString()!.Contains(backupName, StringComparison.Ordinal)).GetProperty("properties");
        Assert.True(service.GetProperty("isVersioningEnabled").GetBoolean());
        Assert.True(service.GetProperty("deleteRetentionPolicy").GetProperty("enabled").GetBoolean());
        Assert.True(service.GetProperty("deleteRetentionPolicy").GetProperty("days").GetInt32() >= 7);
        Assert.True(service.GetProperty("containerDeleteRetentionPolicy").GetProperty("enabled").GetBoolean());
        var container = Assert.Single(await ResourcesAsync("Microsoft.Storage/storageAccounts/blobServices/containers")).GetProperty("properties");
        Assert.Equal("None", container.GetProperty("publicAccess").GetString());
        Assert.True(container.GetProperty("immutableStorageWithVersioning").GetProperty("enabled").GetBoolean());

        var rules = Assert.Single(await ResourcesAsync("Microsoft.Storage/storageAccounts/managementPolicies")).GetProperty("properties").GetProperty("policy").GetProperty("rules").EnumerateArray().ToList();
        Assert.Contains(rules, r => r.GetProperty("definition").GetProperty("actions").TryGetProperty("baseBlob", out var b) && b.TryGetProperty("tierToCool", out _));
        var versions = Assert.Single(rules, r => r.GetProperty("definition").GetProperty("actions").TryGetProperty("version", out _));
        Assert.True(versions.GetProperty("definition").GetProperty("actions").GetProperty("version").GetProperty("delete").GetProperty("daysAfterCreationGreaterThan").GetInt32() > 7, "old versions must outlive their immutability");
    }

    [Fact]
    public async Task Key_Vault_is_RBAC_only_with_purge_protection_and_the_app_may_only_read_secrets()
    {
        var vault = Assert.Single(await ResourcesAsync("Microsoft.KeyVault/vaults")).GetProperty("properties");
        Assert.True(vault.GetProperty("enableRbacAuthorization").GetBoolean());
        Assert.True(vault.GetProperty("enablePurgeProtection").GetBoolean());
        Assert.True(vault.GetProperty("enableSoftDelete").GetBoolean());
        Assert.False(vault.TryGetProperty("accessPolicies", out var policies) && policies.GetArrayLength() > 0);
    }

    // Role definition ids (built-in roles are the same in every tenant).
    private const string BlobDataContributor = "ba92f5b4-2d11-453d-a403-e96b0029c9fe", BlobDataOwner = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
        QueueDataContributor = "974c5e8b-45b9-4653-ba55-5f855dd0fb88", TableDataContributor = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
        SecretsUser = "4633458b-17de-408a-b874-0445c86b69e6", SecretsOfficer = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
        AcrPull = "7f951dda-4ed3-4680-a7ca-43fe172d538d", MetricsPublisher = "3913510d-42f4-4e42-8a64-420c390055eb";

    [Fact]
    public async Task The_apps_identity_holds_exactly_the_roles_it_needs_each_on_its_own_resource()
    {
        var assignments = (await ResourcesAsync("Microsoft.Authorization/roleAssignments")).Select(r =>
        {
            var id = r.GetProperty("id").GetString()!;
            var scope = id[..id.IndexOf("/providers/Microsoft.Authorization/", StringComparison.Ordinal)];
            var role = r.GetProperty("properties").GetProperty("roleDefinitionId").GetString()!.Split('/')[^1];
            var principal = r.GetProperty("properties").GetProperty("principalId").GetString()!;
            return (Scope: scope, Role: role, ForApp: principal.Contains("userAssignedIdentities/id-acmebk", StringComparison.Ordinal));
        }).ToList();

        // The scope's resource type: the namespace and every type segment, without names.
        static string Kind(string scope)
        {
            var parts = Regex.Replace(scope, "^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/", string.Empty).Split('/');
            return string.Join('/', parts.Where((_, i) => i == 0 || i % 2 == 1));
        }

        var app = assignments.Where(a => a.ForApp).Select(a => $"{a.Role} on {Kind(a.Scope)}").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(new[]
        {
            $"{AcrPull} on Microsoft.ContainerRegistry/registries",
            $"{BlobDataOwner} on Microsoft.Storage/storageAccounts",
            $"{MetricsPublisher} on Microsoft.Insights/components",
            $"{SecretsUser} on Microsoft.KeyVault/vaults",
            $"{TableDataContributor} on Microsoft.Storage/storageAccounts",
            $"{QueueDataContributor} on Microsoft.Storage/storageAccounts",
            $"{BlobDataContributor} on Microsoft.Storage/storageAccounts/blobServices/containers",
        }.Order(StringComparer.Ordinal), app);

        // The runtime roles are on the runtime account, the backup role on the backup container, never the other way round.
        var runtime = (await ResourcesAsync("Microsoft.Storage/storageAccounts")).Single(a => !a.GetProperty("properties").TryGetProperty("immutableStorageWithVersioning", out _)).GetProperty("id").GetString();
        Assert.All(assignments.Where(a => a.Role is BlobDataOwner or QueueDataContributor or TableDataContributor), a => Assert.Equal(runtime, a.Scope));
        Assert.All(assignments.Where(a => a.Role == BlobDataContributor), a => Assert.EndsWith("/blobServices/default/containers/backups", a.Scope, StringComparison.Ordinal));
        // Operators may manage secrets; nobody is made Owner, Contributor or User Access Administrator.
        Assert.Contains(assignments, a => !a.ForApp && a.Role == SecretsOfficer);
        Assert.DoesNotContain(assignments, a => a.Role is "8e3af657-a8ff-443c-a75c-2fe8c4bcb635" or "b24988ac-6180-42a0-ab88-20f7382dd24c" or "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9");
        Assert.All(assignments, a => Assert.DoesNotMatch("^/subscriptions/[^/]+(/resourceGroups/[^/]+)?$", a.Scope));
    }

    [Fact]
    public async Task The_app_takes_HTTPS_only_pulls_with_its_identity_and_holds_no_secret_in_a_setting_or_an_output()
    {
        var app = Assert.Single(await ResourcesAsync("Microsoft.App/containerApps"));
        Assert.Equal("functionapp", app.GetProperty("kind").GetString());
        Assert.Equal("UserAssigned", app.GetProperty("identity").GetProperty("type").GetString());
        var config = app.GetProperty("properties").GetProperty("configuration");
        Assert.False(config.GetProperty("ingress").GetProperty("allowInsecure").GetBoolean());
        var registry = Assert.Single(config.GetProperty("registries").EnumerateArray());
        Assert.True(registry.TryGetProperty("identity", out _));
        Assert.False(registry.TryGetProperty("passwordSecretRef", out _));
        foreach (var secret in config.GetProperty("secrets").EnumerateArray())
        {
            Assert.True(secret.TryGetProperty("keyVaultUrl", out _), $"secret {secret.GetProperty("name")} must be a Key Vault reference");
            Assert.False(secret.TryGetProperty("value", out _));
        }

        var container = Assert.Single(app.GetProperty("properties").GetProperty("template").GetProperty("containers").EnumerateArray());
        Assert.True(app.GetProperty("properties").GetProperty("template").GetProperty("scale").GetProperty("minReplicas").GetInt32() >= 1, "the Durable Azure Storage backend cannot wake a replica from zero");
        foreach (var setting in container.GetProperty("env").EnumerateArray())
        {
            var name = setting.GetProperty("name").GetString()!;
            var value = setting.TryGetProperty("value", out var v) ? v.GetString()! : null;
            if (Regex.IsMatch(name, "CONNECTION_?STRING|PASSWORD|KEY$|SECRET$", RegexOptions.IgnoreCase) && !name.EndsWith("Secret", StringComparison.Ordinal))
            {
                Assert.True(setting.TryGetProperty("secretRef", out _), $"{name} must come from a Key Vault reference");
            }

            Assert.DoesNotMatch("(?i)AccountKey=|SharedAccessSignature=|listKeys|password=|InstrumentationKey=", value ?? string.Empty);
        }

        // Outputs name things; they never carry keys, passwords or connection strings.
        foreach (var output in (await Snapshot.Value).GetProperty("outputs").EnumerateObject())
        {
            Assert.DoesNotMatch("(?i)key$|password|connectionstring|secret", output.Name.Replace("keyVault", "vault", StringComparison.Ordinal));
            Assert.DoesNotMatch("(?i)listKeys|listCredentials|ConnectionString|secrets/", output.Value.ToString());
        }

        var dir = Bicep.CopyInfra();
        try
        {
            var (_, json) = await Bicep.RunAsync(dir, "build", "main.bicep", "--stdout");
            using var template = JsonDocument.Parse(json[..(json.LastIndexOf('}') + 1)]);
            foreach (var output in template.RootElement.GetProperty("outputs").EnumerateObject())
            {
                Assert.NotEqual("securestring", output.Value.GetProperty("type").GetString()!.ToLowerInvariant());
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_failed_backup_and_a_late_database_each_raise_an_alert_to_the_teams_e_mail()
    {
        var group = Assert.Single(await ResourcesAsync("Microsoft.Insights/actionGroups"));
        Assert.Equal("ops@example.com", Assert.Single(group.GetProperty("properties").GetProperty("emailReceivers").EnumerateArray()).GetProperty("emailAddress").GetString());
        var rules = await ResourcesAsync("Microsoft.Insights/scheduledQueryRules");
        foreach (var marker in new[] { "[sbk.backup-failed]", "[sbk.database-late]" })
        {
            var rule = Assert.Single(rules, r => r.GetProperty("properties").GetProperty("criteria").GetProperty("allOf")[0].GetProperty("query").GetString()!.Contains(marker, StringComparison.Ordinal));
            Assert.True(rule.GetProperty("properties").GetProperty("enabled").GetBoolean());
            Assert.Equal(group.GetProperty("id").GetString(), rule.GetProperty("properties").GetProperty("actions").GetProperty("actionGroups")[0].GetString());
        }

        // The markers are what the engine logs (a rename on either side fails here).
        var engine = await File.ReadAllBytesAsync(typeof(Schedules.Scheduler).Assembly.Location);
        foreach (var marker in new[] { "[sbk.backup-failed]", "[sbk.database-late]" })
        {
            // String literals live in the assembly as UTF-16.
            Assert.True(engine.AsSpan().IndexOf(System.Text.Encoding.Unicode.GetBytes(marker)) >= 0, $"the engine no longer logs {marker}");
        }

        var insights = Assert.Single(await ResourcesAsync("Microsoft.Insights/components"));
        Assert.True(insights.GetProperty("properties").GetProperty("DisableLocalAuth").GetBoolean());
    }

    [Fact]
    public async Task The_app_settings_the_template_writes_bind_to_a_valid_catalog_through_the_apps_own_configuration()
    {
        var app = Assert.Single(await ResourcesAsync("Microsoft.App/containerApps"));
        var env = app.GetProperty("properties").GetProperty("template").GetProperty("containers")[0].GetProperty("env").EnumerateArray().ToList();
        var settings = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var setting in env)
        {
            var name = setting.GetProperty("name").GetString()!;
            Assert.False(settings.ContainsKey(name), $"{name} is set twice");
            settings[name] = setting.TryGetProperty("value", out var v) ? Resolve(name, v.GetString()!) : "(from Key Vault)";
        }

        // What the Functions host itself needs.
        foreach (var required in new[] { "FUNCTIONS_WORKER_RUNTIME", "AzureWebJobsStorage__accountName", "AzureWebJobsStorage__credential", "AzureWebJobsStorage__clientId", "APPLICATIONINSIGHTS_CONNECTION_STRING" })
        {
            Assert.True(settings.ContainsKey(required), $"{required} is missing");
        }

        // Every timer schedule the functions declare (%Sbk:...%) is set.
        foreach (var schedule in FunctionsTestHost.ReadMetadata().Select(f => f.Trigger).Where(t => t.GetProperty("type").GetString() == "timerTrigger").Select(t => t.GetProperty("schedule").GetString()!))
        {
            var setting = schedule.Trim('%').Replace(":", "__", StringComparison.Ordinal);
            Assert.True(settings.ContainsKey(setting), $"the timer schedule {schedule} needs the app setting {setting}");
        }

        // The catalog part binds strictly (a setting the app does not read fails) and validates.
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings.ToDictionary(kv => kv.Key.Replace("__", ":", StringComparison.Ordinal), kv => kv.Value)).Build();
        var services = new ServiceCollection();
        FunctionsApp.ConfigureServices(services, configuration);
        await using var provider = services.BuildServiceProvider();
        using var error = new StringWriter();
        Assert.True(FunctionsApp.Validate(provider, error), error.ToString());
        var options = provider.GetRequiredService<SbkOptions>();
        Assert.Equal(StoreKind.AzureBlob, options.Store.Kind);
        Assert.Equal("KeyVault", options.Secrets.Kind);
        Assert.Equal("scratch-admin", options.Scratch.ConnectionStringSecret);
        Assert.Equal(options.Secrets.ManagedIdentityClientId, settings["AzureWebJobsStorage__clientId"]);
        Assert.Equal("0 0 2 * * *", options.Databases["app"].Schedule);

        // And the example parameter file's catalog is valid too.
        var example = await File.ReadAllTextAsync(Path.Combine(Bicep.Infra, "main.bicepparam"));
        var catalog = Regex.Match(example, "param catalogJson = '''(.*?)'''", RegexOptions.Singleline).Groups[1].Value;
        settings["Sbk__Json"] = catalog;
        var exampleServices = new ServiceCollection();
        FunctionsApp.ConfigureServices(exampleServices, new ConfigurationBuilder().AddInMemoryCollection(settings.ToDictionary(kv => kv.Key.Replace("__", ":", StringComparison.Ordinal), kv => kv.Value)).Build());
        await using var exampleProvider = exampleServices.BuildServiceProvider();
        using var exampleError = new StringWriter();
        Assert.True(FunctionsApp.Validate(exampleProvider, exampleError), exampleError.ToString());
    }

    /// <summary>A setting's value as the deployment would fill it: values known only then (a module's output, the identity's client id) become plausible ones.</summary>
    private static string Resolve(string name, string value)
    {
        if (!value.StartsWith('[') || !value.EndsWith(']'))
        {
            return value;
        }

        var known = new (string Pattern, string Value)[]
        {
            (@"storageAccounts/stbk[a-z0-9]+', '[0-9-]+'\)\.primaryEndpoints\.blob\]$", "https://stbkacmebk.blob.core.windows.net/"),
            (@"vaults/kv-[a-z0-9-]+', '[0-9-]+'\)\.vaultUri\]$", "https://kv-acmebk.vault.azure.net/"),
            (@"userAssignedIdentities/id-acmebk', '[0-9-]+'\)\.clientId\)?\]$", "5b0f0c3e-0000-4000-8000-00000000acme"),
        };
        foreach (var (pattern, resolved) in known)
        {
            if (Regex.IsMatch(value, pattern))
            {
                return value.StartsWith("[format(", StringComparison.Ordinal) ? $"(formatted with {resolved})" : resolved;
            }
        }

        Assert.Fail($"The app setting {name} is computed as {value}, which this test cannot resolve: add it to the known deployment-time values.");
        return value;
    }
}
