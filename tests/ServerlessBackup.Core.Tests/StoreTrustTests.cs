using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using ServerlessBackup.Backups;
using ServerlessBackup.Catalog;
using ServerlessBackup.Notify;
using ServerlessBackup.Retention;
using ServerlessBackup.Schedules;
using ServerlessBackup.Tests.Infrastructure;
using ServerlessBackup.Verify;

namespace ServerlessBackup.Tests;

/// <summary>
/// An attacker who can write the storage account but not read the master key: every object that
/// steers a decision is forged with an independent Azure client, in Azurite, and sbk must not act
/// on it (and says it ignored it).
/// </summary>
public sealed class StoreTrustTests
{
    private sealed class Setup : IAsyncDisposable
    {
        public required TestCatalog Catalog { get; init; }

        public required TestDatabase Source { get; init; }

        public required BackupEngine Backups { get; init; }

        public required Storage.IObjectStore Store { get; init; }

        public required BlobContainerClient Attacker { get; init; }

        public async ValueTask DisposeAsync()
        {
            await Source.DisposeAsync();
            Catalog.Dispose();
        }

        public Task ForgeAsync(string key, string content, IDictionary<string, string>? metadata = null) =>
            Attacker.GetBlobClient(key).UploadAsync(BinaryData.FromString(content), new BlobUploadOptions { Metadata = metadata });
    }

    private static async Task<Setup> SetupAsync()
    {
        var catalog = await (await new TestCatalog().WithMasterKeyAsync()).WithAzuriteStoreAsync();
        var source = await TestDatabase.CreateAsync("src");
        await source.ExecuteAsync("CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 10)");
        await catalog.AddDatabaseAsync("shop", source.ConnectionUri);
        var store = TestServers.NewAzuriteStore(container: catalog.Options.Store.Container);
        return new Setup { Catalog = catalog, Source = source, Backups = catalog.Engine(store), Store = store, Attacker = TestServers.AzuriteContainer(catalog.Options.Store.Container) };
    }

    private static async Task<Dictionary<string, string>> MetadataAsync(BlobContainerClient container, string key) =>
        new((await container.GetBlobClient(key).GetPropertiesAsync()).Value.Metadata, StringComparer.Ordinal);

    [Fact]
    public async Task Forged_listing_metadata_never_makes_an_old_backup_latest_and_a_forged_manifest_is_left_out()
    {
        await using var s = await SetupAsync();
        var old = await s.Backups.BackupAsync("shop");
        var newest = await s.Backups.BackupAsync("shop");
        // The attacker moves the old backup's start time into the future (metadata only, keeping its signature).
        var key = BackupLayout.Manifest("shop", old.BackupId);
        var metadata = await MetadataAsync(s.Attacker, key);
        metadata["startedat"] = DateTimeOffset.UtcNow.AddDays(1).ToString("O");
        await s.Attacker.GetBlobClient(key).SetMetadataAsync(metadata);
        // And plants a manifest of a backup that never was.
        var fake = BackupId.New(DateTimeOffset.UtcNow.AddHours(2));
        await s.ForgeAsync(BackupLayout.Manifest("shop", fake), "{\"backupId\":\"" + fake + "\"}", new Dictionary<string, string>
        {
            ["backupid"] = fake, ["startedat"] = DateTimeOffset.UtcNow.AddHours(2).ToString("O"), ["snapshottime"] = DateTimeOffset.UtcNow.AddHours(2).ToString("O"),
            ["archivelength"] = "1", ["dumplength"] = "1",
        });

        var listing = await s.Backups.ListCheckedAsync("shop");

        Assert.Equal([newest.BackupId, old.BackupId], listing.Backups.Select(b => b.BackupId));
        Assert.Equal(old.StartedAt, listing.Backups[1].StartedAt); // the authenticated manifest's time, not the forged one
        Assert.Contains(listing.Ignored, i => i.Contains(fake, StringComparison.Ordinal));
        Assert.Equal(newest.BackupId, await s.Backups.ResolveBackupIdAsync("shop", "latest"));
    }

    [Fact]
    public async Task Forged_verification_and_release_records_do_not_make_prune_delete_what_it_must_keep()
    {
        await using var s = await SetupAsync();
        s.Catalog.Options.Databases["shop"].Retention = new RetentionOptions
        {
            Hourly = 1, MinAgeHours = 0, Labels = { ["emergency"] = new LabelRetention { KeepUntilReleased = true } },
        };
        await s.Catalog.WithScratchAsync();
        var restores = s.Catalog.Restores(s.Backups);
        var verified = await s.Backups.BackupAsync("shop");
        Assert.True((await restores.VerifyAsync(new VerificationRequest { Database = "shop", Backup = verified.BackupId, Level = VerificationLevel.Census })).Passed);
        var emergency = await s.Backups.BackupAsync("shop", "emergency");
        var unverified = await s.Backups.BackupAsync("shop");
        // Forged: a "passed" assertions-level verification of the newest backup, and a release of the emergency backup (create-only writes suffice).
        await s.ForgeAsync(BackupLayout.Verification("shop", unverified.BackupId, "Assertions"), "{}", new Dictionary<string, string>
        {
            ["backupid"] = unverified.BackupId, ["level"] = "Assertions", ["passed"] = "true", ["verifiedat"] = DateTimeOffset.UtcNow.ToString("O"), ["sig"] = "1;sbk-master-key;v;AAAA",
        });
        await s.ForgeAsync(BackupLayout.Released("shop", emergency.BackupId), "{}");

        var listed = (await s.Backups.ListCheckedAsync("shop")).Backups.ToDictionary(b => b.BackupId);
        Assert.Null(listed[unverified.BackupId].Verified);
        Assert.Equal(VerificationLevel.Census, listed[verified.BackupId].Verified!.Level);

        var prune = s.Catalog.Retention(s.Store);
        var report = Assert.Single(await prune.PruneAsync("shop"));

        var kept = (await s.Backups.ListAsync("shop")).Select(b => b.BackupId).ToHashSet();
        Assert.Contains(verified.BackupId, kept);   // still the newest really verified backup
        Assert.Contains(emergency.BackupId, kept);  // still kept until really released
        Assert.Contains(report.Decisions, d => d.BackupId == emergency.BackupId && d.Rule.Contains("until released", StringComparison.Ordinal));

        // A real release does let it go.
        await prune.ReleaseAsync("shop", emergency.BackupId);
        await prune.PruneAsync("shop");
        Assert.DoesNotContain(emergency.BackupId, (await s.Backups.ListAsync("shop")).Select(b => b.BackupId));
    }

    [Fact]
    public async Task A_forged_attempt_record_does_not_change_what_status_says()
    {
        await using var s = await SetupAsync();
        var scheduler = new Scheduler(s.Catalog.Options, s.Backups, new Notifier(s.Catalog.Options.Notifications, s.Catalog.Secrets));
        await s.Backups.BackupAsync("shop");
        Assert.Equal(FreshnessState.Ok, Assert.Single(await scheduler.GetStatusAsync()).State);

        await s.ForgeAsync(BackupLayout.LastAttempt("shop"), "{\"at\":\"" + DateTimeOffset.UtcNow.AddMinutes(1).ToString("O") + "\",\"succeeded\":false,\"errorKind\":\"Failed\"}");

        Assert.Equal(FreshnessState.Ok, Assert.Single(await scheduler.GetStatusAsync()).State);
    }

    [Fact]
    public async Task Unsigned_state_objects_read_as_untrusted_and_signed_ones_cannot_be_moved_to_another_key()
    {
        await using var s = await SetupAsync();
        var store = s.Store;
        await Storage.SignedJson.WriteSignedJsonAsync(store, s.Catalog.Signer(), "_operations/a.json", new Dictionary<string, string> { ["status"] = "ok" }, overwrite: true, CancellationToken.None);
        var signed = (await s.Attacker.GetBlobClient("_operations/a.json").DownloadContentAsync()).Value.Content.ToString();
        await s.ForgeAsync("_operations/b.json", signed);
        await s.ForgeAsync("_operations/c.json", signed.Replace("ok", "no", StringComparison.Ordinal));
        await s.ForgeAsync("_operations/d.json", "{\"status\":\"ok\"}");

        Assert.True((await Storage.SignedJson.ReadSignedJsonAsync<Dictionary<string, string>>(store, s.Catalog.Signer(), "_operations/a.json", CancellationToken.None)).Trusted);
        foreach (var key in new[] { "b", "c", "d" })
        {
            var read = await Storage.SignedJson.ReadSignedJsonAsync<Dictionary<string, string>>(store, s.Catalog.Signer(), $"_operations/{key}.json", CancellationToken.None);
            Assert.False(read.Trusted, key);
            Assert.Contains($"_operations/{key}.json", read.Problem!, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Listing_and_prune_survive_unparseable_metadata_and_read_the_manifest_instead()
    {
        await using var s = await SetupAsync();
        var backup = await s.Backups.BackupAsync("shop");
        var key = BackupLayout.Manifest("shop", backup.BackupId);
        await s.Attacker.GetBlobClient(key).SetMetadataAsync(new Dictionary<string, string> { ["startedat"] = "not a date", ["archivelength"] = "-1" });

        var listed = Assert.Single(await s.Backups.ListAsync("shop"));

        Assert.Equal(backup.StartedAt, listed.StartedAt);
        Assert.Equal(backup.Archive.Length, listed.ArchiveLength);
        var prune = s.Catalog.Retention(s.Store);
        Assert.Single(await prune.PruneAsync("shop", dryRun: true));
    }

    [Fact]
    public async Task An_audit_entry_edited_in_the_store_is_listed_as_unauthenticated()
    {
        await using var s = await SetupAsync();
        var log = new Audit.AuditLog(s.Store, s.Catalog.Signer());
        await log.RecordAsync(new Audit.AuditEntry(DateTimeOffset.UtcNow, "cli", "alice@host", "restore", "shop latest into shop", "ok", null));
        string key = "";
        await foreach (var item in s.Attacker.GetBlobsAsync(BlobTraits.None, BlobStates.None, "_audit/", CancellationToken.None))
        {
            key = item.Name;
        }

        var text = (await s.Attacker.GetBlobClient(key).DownloadContentAsync()).Value.Content.ToString();
        await s.ForgeAsync(key, text.Replace("alice@host", "bob@host", StringComparison.Ordinal));

        var entries = new List<(Audit.AuditEntry Entry, bool Trusted)>();
        await foreach (var entry in log.ReadAsync(DateTimeOffset.UtcNow.AddHours(-1)))
        {
            entries.Add(entry);
        }

        var only = Assert.Single(entries);
        Assert.False(only.Trusted);
        Assert.Equal("bob@host", only.Entry.Caller);
    }
}
