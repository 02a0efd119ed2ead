using System.Diagnostics;
using ServerlessBackup.Cli;
using ServerlessBackup.Errors;
using ServerlessBackup.Storage;
using ServerlessBackup.Tests.Infrastructure;

namespace ServerlessBackup.Tests;

/// <summary>
/// What the Azure SDK reports at the store's boundary reaches the user as the engine's error with
/// the next step (exit 6 for credentials, 1 for the network), never as "a bug in sbk".
/// </summary>
public sealed class StoreErrorTests
{
    private static async Task<(int Exit, string Err, TimeSpan Took)> SbkAsync(TestCatalog catalog, string store)
    {
        var path = Path.Combine(catalog.Directory, "sbk.json");
        await File.WriteAllTextAsync(path, $$"""
            { "Store": {{store}}, "Secrets": { "Kind": "Local", "Path": "secrets.json" }, "Databases": { "shop": { "ConnectionStringSecret": "shop-db" } } }
            """);
        var error = new StringWriter();
        var clock = Stopwatch.StartNew();
        var exit = await SbkProgram.RunAsync(["list", "--config", path], new Interaction(new StringWriter(), error, interactive: false));
        return (exit, error.ToString(), clock.Elapsed);
    }

    [Fact]
    public async Task A_local_store_that_fills_up_during_a_backup_says_so_keeps_nothing_and_names_the_setting()
    {
        using var catalog = await new TestCatalog().WithMasterKeyAsync();
        await using var source = await TestDatabase.CreateAsync("src");
        await source.ExecuteAsync("CREATE TABLE noise AS SELECT g, md5(random()::text) || md5(random()::text) AS a FROM generate_series(1, 150000) g");
        await catalog.AddDatabaseAsync("shop", source.ConnectionUri);
        var root = Path.Combine(catalog.Directory, "small-store");
        await using var mounted = await SmallFileSystem.TryMountAsync(root, 2);
        if (mounted is null)
        {
            return;
        }

        var store = new FileSystemObjectStore(root);
        var ex = await Assert.ThrowsAsync<SbkException>(() => catalog.Engine(store).BackupAsync("shop"));

        Assert.Contains($"The store, {store.Description}, is full", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Store:Path", ex.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(root, "*.partial-*", SearchOption.AllDirectories));
        Assert.Empty(Directory.GetFiles(root, "manifest.json", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_refused_storage_key_is_a_configuration_error_that_says_what_to_check()
    {
        using var catalog = await new TestCatalog().WithMasterKeyAsync();
        var wrongKey = TestServers.AzuriteConnectionString().Replace("AccountKey=Eby8", "AccountKey=AAAA", StringComparison.Ordinal);
        await catalog.Secrets.SetSecretAsync("storage", wrongKey);

        var (exit, err, _) = await SbkAsync(catalog, """{ "Kind": "AzureBlob", "ConnectionStringSecret": "storage", "Container": "refused" }""");

        Assert.Equal(ExitCodes.Configuration, exit);
        Assert.True(err.Contains("credentials were refused", StringComparison.Ordinal), err);
        Assert.Contains("Store:ConnectionStringSecret", err, StringComparison.Ordinal);
        Assert.DoesNotContain("bug", err, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("AAAA", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_storage_endpoint_says_so_and_exits_1()
    {
        using var catalog = await new TestCatalog().WithMasterKeyAsync();
        using var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        var port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        await catalog.Secrets.SetSecretAsync("storage", TestServers.AzuriteConnectionString().Replace(TestServers.AzuriteBlobEndpoint.ToString(), $"http://127.0.0.1:{port}/devstoreaccount1", StringComparison.Ordinal));

        var (exit, err, _) = await SbkAsync(catalog, """{ "Kind": "AzureBlob", "ConnectionStringSecret": "storage", "Container": "gone" }""");

        Assert.Equal(ExitCodes.Failed, exit);
        Assert.Contains("could not be reached", err, StringComparison.Ordinal);
        Assert.DoesNotContain("bug", err, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task No_way_to_sign_in_to_Azure_is_a_configuration_error_that_names_az_login()
    {
        using var catalog = await new TestCatalog().WithMasterKeyAsync();

        // No Azure CLI session, no managed identity, no environment credentials on this machine.
        var (exit, err, _) = await SbkAsync(catalog, """{ "Kind": "AzureBlob", "ServiceUri": "https://nosuchaccount.blob.core.windows.net/", "Container": "backups" }""");

        Assert.Equal(ExitCodes.Configuration, exit);
        Assert.Contains("signing in to Azure failed", err, StringComparison.Ordinal);
        Assert.Contains("az login", err, StringComparison.Ordinal);
        Assert.DoesNotContain("bug", err, StringComparison.OrdinalIgnoreCase);
    }
}
