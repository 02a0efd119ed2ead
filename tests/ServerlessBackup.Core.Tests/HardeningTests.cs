using System.Text.Json.Nodes;
using ServerlessBackup.Backups;
using ServerlessBackup.Catalog;
using ServerlessBackup.Cli;
using ServerlessBackup.Notify;
using ServerlessBackup.Retention;
using ServerlessBackup.Secrets;
using ServerlessBackup.Tests.Infrastructure;

namespace ServerlessBackup.Tests;

/// <summary>The defects of a store and a machine that real teams meet: concurrent writers, killed uploads, fresh containers, trailing newlines, an emergency key without its version.</summary>
public sealed class HardeningTests
{
    [Fact]
    public async Task Concurrent_writers_of_the_local_secret_file_lose_no_version()
    {
        var directory = Directory.CreateTempSubdirectory("sbk-secrets-").FullName;
        try
        {
            var path = Path.Combine(directory, "secrets.json");
            // Eight writers with their own store (as eight processes would have), ten versions each.
            await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
            {
                var store = new LocalSecretStore(path, _ => null);
                for (var v = 0; v < 10; v++)
                {
                    await store.SetSecretAsync($"writer-{w}", $"value-{v}");
                }
            })));

            var root = JsonNode.Parse(await File.ReadAllTextAsync(path))!.AsObject();
            for (var w = 0; w < 8; w++)
            {
                Assert.Equal(10, root[$"writer-{w}"]!["versions"]!.AsObject().Count);
                Assert.Equal("value-9", (await new LocalSecretStore(path, _ => null).GetSecretAsync($"writer-{w}")).Reveal());
            }

            Assert.Empty(Directory.GetFiles(directory, "*.tmp"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Concurrent_key_rotations_from_separate_processes_keep_every_version()
    {
        using var catalog = await new TestCatalog().WithMasterKeyAsync();
        var config = catalog.WriteConfig();

        var runs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Sbk.RunProcessAsync(catalog.Directory, new Dictionary<string, string>(), "keys", "rotate", "--config", config)));

        Assert.All(runs, r => Assert.True(r.Exit == 0, r.Err));
        var versions = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(catalog.Directory, "secrets.json")))![catalog.Options.MasterKeySecret]!["versions"]!.AsObject();
        Assert.Equal(5, versions.Count); // the first and four rotations
        foreach (var run in runs)
        {
            var reported = run.Out.Split("version ")[1].Split(' ')[0];
            Assert.True(versions.ContainsKey(reported), $"version {reported}, reported current, was lost");
        }
    }

    [Fact]
    public async Task The_emergency_one_liner_decrypts_with_only_the_key_in_the_environment_and_refuses_a_wrong_key()
    {
        using var catalog = await new TestCatalog().WithMasterKeyAsync();
        await using var source = await TestDatabase.CreateAsync("src");
        await source.ExecuteAsync("CREATE TABLE t AS SELECT generate_series(1, 100) AS id");
        await catalog.AddDatabaseAsync("shop", source.ConnectionUri);
        var engine = catalog.Engine(catalog.NewFileStore());
        var backup = await engine.BackupAsync("shop");
        var key = (await catalog.Secrets.GetSecretAsync(catalog.Options.MasterKeySecret)).Reveal();
        var empty = Directory.CreateTempSubdirectory("sbk-emergency-").FullName;
        try
        {
            File.Copy(Path.Combine(catalog.Directory, "store", "shop", backup.BackupId, "archive"), Path.Combine(empty, "archive"));

            var good = await Sbk.RunProcessAsync(empty, new Dictionary<string, string> { ["SBK_SECRET_SBK_MASTER_KEY"] = key }, "decrypt", "--archive", "archive", "--out", "app.dump");
            var wrong = await Sbk.RunProcessAsync(empty, new Dictionary<string, string> { ["SBK_SECRET_SBK_MASTER_KEY"] = Crypto.MasterKey.GenerateSecretValue() }, "decrypt", "--archive", "archive", "--out", "other.dump");

            Assert.True(good.Exit == 0, good.Err);
            Assert.True(new FileInfo(Path.Combine(empty, "app.dump")).Length > 0);
            Assert.Equal(3, wrong.Exit);
            Assert.Contains("is not the one that made this backup", wrong.Err, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(empty, "other.dump")));
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }

    [Theory]
    [InlineData("nightly\n")]
    [InlineData("nightly\r\n")]
    public void A_trailing_newline_is_not_a_valid_label_or_backup_id(string suffix)
    {
        Assert.False(BackupEngine.IsValidLabel("nightly" + suffix[7..]));
        Assert.False(BackupId.IsValid("20261121T084627Z-k3f9x2" + suffix[7..]));
        Assert.True(BackupEngine.IsValidLabel("nightly"));
        Assert.True(BackupId.IsValid("20261121T084627Z-k3f9x2"));
    }

    [Fact]
    public async Task A_label_with_a_newline_is_refused_before_anything_is_uploaded()
    {
        using var catalog = await new TestCatalog().WithMasterKeyAsync();
        await catalog.AddDatabaseAsync("shop", TestServers.ConnectionUri("postgres"));
        var config = catalog.WriteConfig();

        var (exit, _, error) = await Sbk.RunAsync("backup", "shop", "--label", "nightly\n", "--config", config);

        Assert.Equal(ExitCodes.Configuration, exit);
        Assert.Contains("is not valid", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(catalog.Directory, "store", "shop")));
    }

    [Fact]
    public async Task Prune_sweeps_the_partial_files_of_killed_uploads_once_they_are_old_and_leaves_fresh_ones()
    {
        using var catalog = await new TestCatalog().WithMasterKeyAsync();
        await catalog.AddDatabaseAsync("shop", TestServers.ConnectionUri("postgres"));
        var store = catalog.NewFileStore();
        var engine = catalog.Engine(store);
        var folder = Path.Combine(catalog.Directory, "store", "shop", BackupId.New(DateTimeOffset.UtcNow.AddDays(-5)));
        Directory.CreateDirectory(folder);
        var stale = Path.Combine(folder, "archive.partial-0123456789ab");
        var fresh = Path.Combine(folder, "archive.partial-ba9876543210");
        await File.WriteAllBytesAsync(stale, new byte[4096]);
        await File.WriteAllBytesAsync(fresh, new byte[4096]);
        File.SetLastWriteTimeUtc(stale, DateTime.UtcNow.AddDays(-3));

        var report = Assert.Single(await catalog.Retention(store).PruneAsync("shop"));

        Assert.Equal(1, report.PartialsSwept);
        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(fresh));
    }

    [Fact]
    public void KeepDays_keeps_every_backup_of_the_last_days_beside_the_counts()
    {
        var now = new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
        var history = Enumerable.Range(0, 200).Select(i => now.AddHours(-6 * i)).Select(at => new RetentionCandidate(BackupId.New(at), at, null, false, false, false)).ToList();

        var decisions = RetentionPolicy.Evaluate(history, new RetentionOptions { KeepDays = 7, Monthly = 2, MinAgeHours = 0 }, now, TimeZoneInfo.Utc);

        Assert.All(decisions.Where(d => now - d.At < TimeSpan.FromDays(7)), d => Assert.True(d.Keep));
        Assert.Contains(decisions, d => d.Rule.Contains("KeepDays", StringComparison.Ordinal));
        var olderKept = decisions.Where(d => now - d.At >= TimeSpan.FromDays(7) && d.Keep).ToList();
        Assert.Single(olderKept); // the newest backup of the month before; this month's newest is already kept
        Assert.Equal(new DateTimeOffset(2026, 10, 31, 18, 0, 0, TimeSpan.Zero), olderKept[0].At);
    }

    [Fact]
    public async Task Every_command_that_reads_works_on_a_container_that_does_not_exist_yet()
    {
        using var catalog = await (await new TestCatalog().WithMasterKeyAsync()).WithAzuriteStoreAsync();
        await catalog.AddDatabaseAsync("shop", TestServers.ConnectionUri("postgres"));
        catalog.Options.Databases["shop"].Schedule = "0 3 * * *";
        var config = catalog.WriteConfig();

        foreach (var command in new[] { new[] { "list" }, ["prune", "--dry-run"], ["prune"], ["drill", "list"], ["audit"], ["previous", "list"], ["run-due", "--dry-run"] })
        {
            var (exit, output, error) = await Sbk.RunAsync([.. command, "--config", config]);
            Assert.True(exit == 0, $"sbk {string.Join(' ', command)} exited {exit}: {error}{output}");
        }

        // status says what is true (no backup yet: LATE, exit 1), not a storage error.
        var status = await Sbk.RunAsync("status", "--config", config);
        Assert.Equal(1, status.Exit);
        Assert.Contains("it has no complete backup", status.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("error", status.Err, StringComparison.OrdinalIgnoreCase);
        // And the first scheduled run backs up into the container it creates.
        var due = await Sbk.RunAsync("run-due", "--config", config);
        Assert.True(due.Exit == 0, due.Err);
        var after = await Sbk.RunAsync("status", "--config", config);
        Assert.True(after.Exit == 0, after.Out + after.Err + due.Out);
    }

    [Fact]
    public async Task Restores_and_decrypts_from_the_command_line_are_in_the_audit_log()
    {
        using var catalog = await new TestCatalog().WithMasterKeyAsync();
        await catalog.WithScratchAsync();
        await using var source = await TestDatabase.CreateAsync("src");
        await source.ExecuteAsync("CREATE TABLE t AS SELECT generate_series(1, 10) AS id");
        await catalog.AddDatabaseAsync("shop", source.ConnectionUri);
        var config = catalog.WriteConfig();
        Assert.Equal(0, (await Sbk.RunAsync("backup", "shop", "--config", config)).Exit);

        var decrypt = await Sbk.RunAsync("decrypt", "shop", "latest", "--out", Path.Combine(catalog.Directory, "x.dump"), "--config", config);
        var missing = await Sbk.RunAsync("restore", "shop", "20200101T000000Z-aaaaaa", "--config", config);
        var audit = await Sbk.RunAsync("audit", "--json", "--config", config);
        var filtered = await Sbk.RunAsync("audit", "--action", "restore", "--config", config);

        Assert.Equal(0, decrypt.Exit);
        Assert.Equal(ExitCodes.NotFound, missing.Exit);
        var entries = JsonNode.Parse(audit.Out)!.AsArray();
        Assert.Contains(entries, e => (string?)e!["action"] == "decrypt" && (string?)e["target"] == "shop latest" && (string?)e["outcome"] == "ok" && (bool)e["authenticated"]!);
        Assert.Contains(entries, e => (string?)e!["action"] == "restore" && ((string?)e["outcome"])!.StartsWith("failed (notfound)", StringComparison.Ordinal));
        Assert.Contains("restore", filtered.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("decrypt", filtered.Out, StringComparison.Ordinal);
    }
}
