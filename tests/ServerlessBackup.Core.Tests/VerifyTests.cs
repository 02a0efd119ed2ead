using ServerlessBackup.Backups;
using ServerlessBackup.Catalog;
using ServerlessBackup.Dump;
using ServerlessBackup.Restore;
using ServerlessBackup.Storage;
using ServerlessBackup.Tests.Infrastructure;
using ServerlessBackup.Verify;

namespace ServerlessBackup.Tests;

public sealed class VerifyTests
{
    private static async Task<(TestCatalog Catalog, TestDatabase Source, IObjectStore Store, BackupEngine Backups, RestoreEngine Restores, Manifest Backup)> SetupAsync(bool azurite = false)
    {
        var catalog = await new TestCatalog().WithMasterKeyAsync();
        await catalog.WithScratchAsync();
        var source = await TestDatabase.CreateAsync("src");
        await source.ExecuteAsync(Fixture.Schema);
        await catalog.AddDatabaseAsync("shop", source.ConnectionUri);
        catalog.Options.Databases["shop"].Assertions =
        [
            new AssertionOptions { Name = "customers exist", Sql = "SELECT count(*) FROM \"Billing\".\"Customer Accounts\"", Expect = AssertionExpectation.AtLeast, Value = "1" },
            new AssertionOptions { Name = "no orphaned invoices", Sql = "SELECT i.id FROM \"Billing\".invoices i LEFT JOIN \"Billing\".\"Customer Accounts\" c ON c.\"Id\" = i.account_id WHERE c.\"Id\" IS NULL" },
            new AssertionOptions { Name = "invoice total", Sql = "SELECT sum(amount) FROM \"Billing\".invoices", Expect = AssertionExpectation.Equals, Value = "1500500.00" },
        ];
        IObjectStore store = azurite ? TestServers.NewAzuriteStore() : catalog.NewFileStore();
        var backups = catalog.Engine(store);
        var manifest = await backups.BackupAsync("shop");
        return (catalog, source, store, backups, catalog.Restores(backups), manifest);
    }

    private static async Task<IReadOnlyList<ScratchDatabase>> ScratchOfAsync(RestoreEngine restores, string backupId) =>
        (await restores.ListScratchAsync()).Where(s => s.BackupId == backupId).ToList();

    [Fact]
    public async Task Every_level_passes_on_a_good_backup_and_listing_shows_the_verification()
    {
        var (catalog, source, _, backups, restores, manifest) = await SetupAsync(azurite: true);
        using var _ = catalog;
        await using var __ = source;

        var archive = await restores.VerifyAsync(new VerificationRequest { Database = "shop", Level = VerificationLevel.Archive });
        var full = await restores.VerifyAsync(new VerificationRequest { Database = "shop" });

        Assert.True(archive.Passed, string.Join("; ", archive.Checks.Select(c => c.Detail)));
        Assert.Null(archive.ScratchDatabase);
        Assert.Contains(archive.Checks, c => c.Name == "pg_restore --list reads the archive" && c.Passed);
        Assert.True(full.Passed, string.Join("; ", full.Checks.Where(c => !c.Passed).Select(c => $"{c.Name}: {c.Detail}")));
        Assert.Equal(3500, full.RowsVerified);
        Assert.Contains(full.Checks, c => c is { Kind: "table", Name: "Billing.invoices", Expected: "3000", Actual: "3000", Passed: true });
        Assert.Contains(full.Checks, c => c is { Kind: "sequence", Name: "public.standalone_seq", Actual: "4242", Passed: true });
        Assert.Equal(3, full.Checks.Count(c => c.Kind == "assertion" && c.Passed));
        Assert.True(full.Timings.Restore > 0);
        Assert.Empty(await ScratchOfAsync(restores, manifest.BackupId));

        var listed = Assert.Single(await backups.ListAsync("shop"));
        Assert.Equal(VerificationLevel.Assertions, listed.Verified?.Level);
        var stored = await backups.ReadVerificationAsync("shop", "latest", VerificationLevel.Assertions);
        Assert.Equal(full.Checks.Count, stored!.Checks.Count);
    }

    [Fact]
    public async Task Verification_catches_a_restored_copy_that_disagrees_with_the_census()
    {
        var (catalog, source, store, _, restores, manifest) = await SetupAsync();
        using var _ = catalog;
        await using var __ = source;
        // The manifest says one more invoice than the dump holds: the restored copy "lost" a row.
        await TestManifests.RewriteAsync(store, catalog.Secrets, catalog.Options.MasterKeySecret, "shop", manifest.BackupId, (m, p) =>
            (m, p with { Census = p.Census with { Tables = p.Census.Tables.Select(t => t.Name == "invoices" ? t with { Rows = t.Rows + 1 } : t).ToList() } }));

        var report = await restores.VerifyAsync(new VerificationRequest { Database = "shop", Level = VerificationLevel.Census });

        Assert.False(report.Passed);
        Assert.False(report.IntegrityFailure);
        var failed = Assert.Single(report.Checks, c => !c.Passed);
        Assert.Equal(("table", "Billing.invoices", "3001", "3000"), (failed.Kind, failed.Name, failed.Expected, failed.Actual));
        Assert.Empty(await ScratchOfAsync(restores, manifest.BackupId));
    }

    [Fact]
    public async Task Verification_catches_a_failing_assertion_without_showing_row_data()
    {
        var (catalog, source, _, backups, restores, manifest) = await SetupAsync();
        using var _ = catalog;
        await using var __ = source;
        catalog.Options.Databases["shop"].Assertions.Add(new AssertionOptions { Name = "unique display names", Sql = "SELECT \"DisplayName\" FROM \"Billing\".\"Customer Accounts\" WHERE \"Id\" <= 3" });
        catalog.Options.Databases["shop"].Assertions.Add(new AssertionOptions { Name = "broken query", Sql = "SELECT count(*) FROM no_such_table", Expect = AssertionExpectation.Equals, Value = "0" });

        var report = await restores.VerifyAsync(new VerificationRequest { Database = "shop", Keep = true });

        var scratch = TestDatabase.Attach(report.ScratchDatabase!);
        await using var ___ = scratch;
        Assert.False(report.Passed);
        Assert.True(report.Kept);
        Assert.True(await scratch.ExistsAsync());
        var rows = Assert.Single(report.Checks, c => c.Name == "unique display names");
        Assert.False(rows.Passed);
        Assert.Equal("3 row(s)", rows.Actual);
        Assert.DoesNotContain(report.Checks, c => (c.Detail ?? string.Empty).Contains("Kunde", StringComparison.Ordinal));
        var broken = Assert.Single(report.Checks, c => c.Name == "broken query");
        Assert.Contains("no_such_table", broken.Detail, StringComparison.Ordinal);
        Assert.All(report.Checks.Where(c => c.Kind is "table" or "sequence"), c => Assert.True(c.Passed));
        var listed = Assert.Single(await backups.ListAsync("shop"));
        Assert.Null(listed.Verified);
        Assert.False(listed.LastVerification!.Passed);
        Assert.Single(await ScratchOfAsync(restores, manifest.BackupId));
    }

    [Fact]
    public async Task A_tampered_archive_fails_at_the_archive_level_without_creating_a_database()
    {
        var (catalog, source, _, _, restores, manifest) = await SetupAsync();
        using var _ = catalog;
        await using var __ = source;
        var path = Path.Combine(catalog.Directory, "store", "shop", manifest.BackupId, "archive");
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length - 40] ^= 0x01;
        File.WriteAllBytes(path, bytes);

        var archive = await restores.VerifyAsync(new VerificationRequest { Database = "shop", Level = VerificationLevel.Archive });
        var full = await restores.VerifyAsync(new VerificationRequest { Database = "shop", Keep = true });

        Assert.False(archive.Passed);
        Assert.True(archive.IntegrityFailure);
        Assert.Null(archive.ScratchDatabase);
        Assert.Contains("authenticate", archive.Error, StringComparison.OrdinalIgnoreCase);
        Assert.False(full.Passed);
        Assert.True(full.IntegrityFailure);
        Assert.False(full.Kept);
        Assert.Empty(await ScratchOfAsync(restores, manifest.BackupId));
    }

    [Fact]
    public async Task A_backup_without_a_census_cannot_pass_the_census_level()
    {
        var (catalog, source, _, backups, restores, _) = await SetupAsync();
        using var _ = catalog;
        await using var __ = source;
        catalog.Options.Databases["shop"].Census = CensusMode.None;
        await backups.BackupAsync("shop");

        var report = await restores.VerifyAsync(new VerificationRequest { Database = "shop", Level = VerificationLevel.Census });

        Assert.False(report.Passed);
        Assert.Contains(report.Checks, c => c.Kind == "census" && !c.Passed && c.Detail!.Contains("Census: None", StringComparison.Ordinal));
    }
}
