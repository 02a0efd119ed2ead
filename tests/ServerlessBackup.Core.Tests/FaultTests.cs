using Azure.Storage.Blobs;
using ServerlessBackup.Backups;
using ServerlessBackup.Catalog;
using ServerlessBackup.Notify;
using ServerlessBackup.Retention;
using ServerlessBackup.Storage;
using ServerlessBackup.Tests.Infrastructure;

namespace ServerlessBackup.Tests;

/// <summary>
/// Backups and prunes through a proxy in front of Azurite that loses answers to writes that
/// landed, resets connections and answers 500 and 503: nothing is lost, nothing half-listed.
/// </summary>
public sealed class FaultTests
{
    private sealed class Setup : IAsyncDisposable
    {
        public required TestCatalog Catalog { get; init; }

        public required TestDatabase Source { get; init; }

        public required FaultProxy Proxy { get; init; }

        public required BackupEngine Backups { get; init; }

        public required IObjectStore Store { get; init; }

        public required string Container { get; init; }

        public async ValueTask DisposeAsync()
        {
            await Proxy.DisposeAsync();
            await Source.DisposeAsync();
            Catalog.Dispose();
        }
    }

    private static async Task<Setup> SetupAsync()
    {
        var catalog = await new TestCatalog().WithMasterKeyAsync();
        catalog.Options.Dump.ChunkSizeKiB = 64;
        var source = await TestDatabase.CreateAsync("src");
        await source.ExecuteAsync(Fixture.Schema);
        await catalog.AddDatabaseAsync("shop", source.ConnectionUri);
        var proxy = await FaultProxy.StartAsync();
        var container = "fault" + Guid.NewGuid().ToString("N")[..16];
        var client = new BlobClientOptions();
        client.Retry.MaxRetries = 6;
        client.Retry.Delay = TimeSpan.FromMilliseconds(20);
        client.Retry.MaxDelay = TimeSpan.FromMilliseconds(200);
        client.Retry.NetworkTimeout = TimeSpan.FromSeconds(20);
        var store = new AzureBlobObjectStore(new BlobServiceClient(proxy.ConnectionString, client).GetBlobContainerClient(container),
            new AzureBlobStoreOptions { BlockSize = 256 * 1024, DownloadRangeSize = 256 * 1024, MaxConcurrency = 2, SignsWithConnectionString = true });
        return new Setup { Catalog = catalog, Source = source, Proxy = proxy, Backups = catalog.Engine(store), Store = store, Container = container };
    }

    /// <summary>Applies <paramref name="fault"/> to the first request that <paramref name="matches"/>, and to no other.</summary>
    private static Func<Microsoft.AspNetCore.Http.HttpRequest, Fault> Once(Func<Microsoft.AspNetCore.Http.HttpRequest, bool> matches, Fault fault)
    {
        var done = 0;
        return request => matches(request) && Interlocked.Exchange(ref done, 1) == 0 ? fault : Fault.None;
    }

    private static async Task AssertRestoresAsync(Setup s, string backupId)
    {
        var file = Path.Combine(s.Catalog.Directory, backupId + ".dump");
        await s.Backups.DecryptAsync("shop", backupId, file);
        await using var copy = await TestDatabase.CreateAsync("copy");
        var (exit, errors) = await PgTools.RestoreAsync(file, copy);
        Assert.True(exit == 0, errors);
        Assert.Equal(await s.Source.FingerprintAsync(), await copy.FingerprintAsync());
    }

    [Theory]
    [InlineData("manifest")]
    [InlineData("commit")]
    [InlineData("block")]
    [InlineData("manifest-every-time")]
    public async Task A_lost_answer_to_a_write_that_landed_still_gives_one_complete_listed_backup(string which)
    {
        await using var s = await SetupAsync();
        s.Proxy.Policy = which == "manifest-every-time"
            ? r => r.Method == "PUT" && r.Path.Value!.EndsWith("/manifest.json", StringComparison.Ordinal) ? Fault.LoseResponse : Fault.None // every retry too: the SDK gives up, sbk reads it back
            : Once(r => r.Method == "PUT" && which switch
        {
            "manifest" => r.Path.Value!.EndsWith("/manifest.json", StringComparison.Ordinal),
            "commit" => r.Path.Value!.EndsWith("/archive", StringComparison.Ordinal) && r.QueryString.Value!.Contains("comp=blocklist", StringComparison.Ordinal),
            _ => r.QueryString.Value!.Contains("comp=block&", StringComparison.Ordinal),
        }, Fault.LoseResponse);

        Manifest backup;
        try
        {
            backup = await s.Backups.BackupAsync("shop");
        }
        catch (Exception ex)
        {
            throw new InvalidOperationException(string.Join("\n", s.Proxy.Log), ex);
        }

        Assert.Contains(s.Proxy.Log, l => l.EndsWith("LoseResponse", StringComparison.Ordinal));
        var listed = Assert.Single(await s.Backups.ListAsync("shop"));
        Assert.Equal(backup.BackupId, listed.BackupId);
        await AssertRestoresAsync(s, backup.BackupId);
    }

    /// <summary>A backup big enough to land in several pieces, and a scratch server to restore it onto with two jobs.</summary>
    private static async Task<(Manifest Backup, Restore.RestoreEngine Restores, string Temp)> ParallelRestoreSetupAsync(Setup s)
    {
        await s.Source.ExecuteAsync("CREATE TABLE events AS SELECT g AS id, md5(g::text) AS payload FROM generate_series(1, 60000) g; CREATE TABLE more AS SELECT g FROM generate_series(1, 60000) g;");
        await s.Catalog.WithScratchAsync();
        s.Catalog.Options.Scratch.TempDirectory = Directory.CreateDirectory(Path.Combine(s.Catalog.Directory, "tmp")).FullName;
        return (await s.Backups.BackupAsync("shop"), s.Catalog.Restores(s.Backups), s.Catalog.Options.Scratch.TempDirectory);
    }

    [Fact]
    public async Task A_parallel_restore_gets_through_500s_503s_and_resets_while_tables_load_as_the_archive_lands()
    {
        await using var s = await SetupAsync();
        var (backup, restores, temp) = await ParallelRestoreSetupAsync(s);
        var n = 0;
        s.Proxy.Policy = r => r.Method != "GET" ? Fault.None : (Interlocked.Increment(ref n) % 5) switch
        {
            1 => Fault.ServerError,
            2 => Fault.Busy,
            3 => Fault.Reset,
            _ => Fault.None,
        };

        var result = await restores.RestoreAsync(new Restore.RestoreRequest { Database = "shop", Backup = backup.BackupId, Jobs = 2 });

        await using var copy = TestDatabase.Attach(result.Target);
        Assert.Contains(s.Proxy.Log, l => l.EndsWith("Reset", StringComparison.Ordinal));
        Assert.Contains(s.Proxy.Log, l => l.EndsWith("ServerError", StringComparison.Ordinal));
        Assert.Equal(await s.Source.FingerprintAsync(), await copy.FingerprintAsync());
        Assert.Empty(Directory.GetFileSystemEntries(temp));
    }

    [Fact]
    public async Task A_store_that_stops_answering_in_the_middle_of_a_parallel_restore_leaves_no_half_made_copy_and_no_file()
    {
        await using var s = await SetupAsync();
        var (backup, restores, temp) = await ParallelRestoreSetupAsync(s);
        var n = 0;
        // The manifest and the first ranges come through; then every request is cut off, however often it is retried.
        s.Proxy.Policy = r => r.Method == "GET" && Interlocked.Increment(ref n) > 6 ? Fault.Reset : Fault.None;

        var ex = await Assert.ThrowsAsync<Errors.SbkException>(() => restores.RestoreAsync(new Restore.RestoreRequest { Database = "shop", Backup = backup.BackupId, Jobs = 2 }));

        Assert.True(ex.IsTransient, ex.Message);
        Assert.DoesNotContain(await restores.ListScratchAsync(), x => x.BackupId == backup.BackupId);
        Assert.Empty(Directory.GetFileSystemEntries(temp));
    }

    [Fact]
    public async Task Backups_and_prune_get_through_resets_500s_and_503s()
    {
        await using var s = await SetupAsync();
        var n = 0;
        s.Proxy.Policy = _ => (Interlocked.Increment(ref n) % 13) switch
        {
            3 => Fault.ServerError,
            7 => Fault.Busy,
            11 => Fault.Reset,
            12 => Fault.LoseResponse,
            _ => Fault.None,
        };

        var backups = new List<Manifest>();
        for (var i = 0; i < 3; i++)
        {
            backups.Add(await s.Backups.BackupAsync("shop"));
        }

        s.Catalog.Options.Databases["shop"].Retention = new RetentionOptions { Hourly = 1, MinAgeHours = 0 };
        var report = Assert.Single(await s.Catalog.Retention(s.Store).PruneAsync("shop"));

        Assert.Contains(s.Proxy.Log, l => l.EndsWith("Reset", StringComparison.Ordinal));
        Assert.Contains(s.Proxy.Log, l => l.EndsWith("LoseResponse", StringComparison.Ordinal));
        Assert.Equal(2, report.Deleted);
        s.Proxy.Policy = _ => Fault.None;
        var left = Assert.Single(await s.Backups.ListAsync("shop"));
        Assert.Equal(backups[^1].BackupId, left.BackupId);
        // Nothing half-deleted is left behind: every remaining object belongs to the kept backup (or is shared state).
        await foreach (var item in TestServers.AzuriteContainer(s.Container).GetBlobsAsync())
        {
            Assert.True(!item.Name.StartsWith("shop/2", StringComparison.Ordinal) || item.Name.StartsWith($"shop/{left.BackupId}/", StringComparison.Ordinal), item.Name);
        }

        await AssertRestoresAsync(s, left.BackupId);
    }
}
