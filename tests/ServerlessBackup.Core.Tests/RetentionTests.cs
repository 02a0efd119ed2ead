using System.Globalization;
using ServerlessBackup.Backups;
using ServerlessBackup.Catalog;
using ServerlessBackup.Notify;
using ServerlessBackup.Retention;
using ServerlessBackup.Storage;
using ServerlessBackup.Tests.Infrastructure;

namespace ServerlessBackup.Tests;

public sealed class RetentionTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    private static RetentionCandidate Backup(double daysAgo, string? label = null, bool held = false, bool released = false, bool verified = false)
    {
        var at = Now.AddDays(-daysAgo);
        return new RetentionCandidate(BackupId.New(at), at, label, held, released, verified);
    }

    private static RetentionOptions Runbook() => new()
    {
        Daily = 7,
        Weekly = 4,
        Monthly = 12,
        MinAgeHours = 24,
        Labels =
        {
            ["pre-migration"] = new LabelRetention { KeepDays = 90 },
            ["emergency"] = new LabelRetention { KeepUntilReleased = true },
        },
    };

    [Fact]
    public void Daily_seven_keeps_the_newest_backup_of_each_of_the_last_seven_days()
    {
        var backups = Enumerable.Range(0, 30).Select(d => Backup(d + 0.5)).ToList();

        var decisions = RetentionPolicy.Evaluate(backups, new RetentionOptions { Daily = 7, MinAgeHours = 0 }, Now, TimeZoneInfo.Utc);

        Assert.Equal(7, decisions.Count(d => d.Keep));
        Assert.Equal(backups.Take(7).Select(b => b.BackupId), decisions.Where(d => d.Keep).Select(d => d.BackupId));
        Assert.StartsWith("not kept by any rule", decisions[^1].Rule, StringComparison.Ordinal);
        Assert.Equal("daily 2 of 7 (2026-11-20)", decisions[1].Rule);
    }

    [Fact]
    public void The_runbook_policy_keeps_labels_holds_and_the_newest_verified_backup()
    {
        var old = Backup(200);
        var oldPreMigration = Backup(100, "pre-migration");
        var recentPreMigration = Backup(80, "pre-migration");
        var emergency = Backup(400, "emergency");
        var releasedEmergency = Backup(390, "emergency", released: true);
        var held = Backup(500, held: true);
        var verified = Backup(600, verified: true);
        var young = Backup(0.5);
        var history = new[] { old, oldPreMigration, recentPreMigration, emergency, releasedEmergency, held, verified, young };

        var d = RetentionPolicy.Evaluate(history, Runbook(), Now, TimeZoneInfo.Utc).ToDictionary(x => x.BackupId);

        Assert.Equal("the newest complete backup", d[young.BackupId].Rule);
        Assert.False(d[oldPreMigration.BackupId].Keep);
        Assert.Equal("label 'pre-migration': its rule no longer keeps it", d[oldPreMigration.BackupId].Rule);
        Assert.Equal("label 'pre-migration': kept 90 days (10 left)", d[recentPreMigration.BackupId].Rule);
        Assert.Equal("label 'emergency': kept until released (sbk release)", d[emergency.BackupId].Rule);
        Assert.False(d[releasedEmergency.BackupId].Keep);
        Assert.True(d[held.BackupId].Keep);
        Assert.StartsWith("held", d[held.BackupId].Rule, StringComparison.Ordinal);
        Assert.Equal("the newest verified backup", d[verified.BackupId].Rule);
        Assert.True(d[old.BackupId].Keep); // monthly: the newest backup of its month
    }

    [Fact]
    public void Nothing_younger_than_the_minimum_age_is_deleted()
    {
        var backups = Enumerable.Range(0, 48).Select(h => Backup(h / 24.0)).ToList();

        var decisions = RetentionPolicy.Evaluate(backups, new RetentionOptions { Daily = 1, MinAgeHours = 36 }, Now, TimeZoneInfo.Utc);

        Assert.All(decisions.Where(d => (Now - d.At).TotalHours < 36), d => Assert.True(d.Keep));
        Assert.Contains(decisions, d => !d.Keep);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Over_years_of_hourly_backups_with_gaps_the_invariants_hold(int seed)
    {
        var random = new Random(seed);
        var zone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
        var history = new List<RetentionCandidate>();
        for (var hour = 0; hour < 3 * 365 * 24; hour++)
        {
            // Gaps: whole days or weeks when the host was down.
            if (random.Next(1000) < 3)
            {
                hour += random.Next(1, 24 * 10);
            }

            var at = Now.AddHours(-hour - random.NextDouble());
            var roll = random.Next(1000);
            var label = roll < 5 ? "pre-migration" : roll < 7 ? "emergency" : roll < 20 ? "nightly" : null;
            history.Add(new RetentionCandidate(BackupId.New(at) , at, label, random.Next(2000) == 0, label == "emergency" && random.Next(2) == 0, random.Next(500) == 0));
        }

        var rules = Runbook();
        rules.Hourly = 24;
        rules.Yearly = 3;

        var decisions = RetentionPolicy.Evaluate(history, rules, Now, zone);
        var keep = decisions.ToDictionary(d => d.BackupId, d => d.Keep);

        Assert.Equal(history.Count, decisions.Count);
        Assert.True(keep[history.MaxBy(b => b.At)!.BackupId]);
        Assert.True(keep[history.Where(b => b.Verified).MaxBy(b => b.At)!.BackupId]);
        Assert.All(history.Where(b => b.Held), b => Assert.True(keep[b.BackupId]));
        Assert.All(history.Where(b => (Now - b.At).TotalHours < rules.MinAgeHours), b => Assert.True(keep[b.BackupId]));
        Assert.All(history.Where(b => b is { Label: "emergency", Released: false }), b => Assert.True(keep[b.BackupId]));
        Assert.All(history.Where(b => b.Label == "pre-migration" && (Now - b.At).TotalDays < 90), b => Assert.True(keep[b.BackupId]));

        // Counts: among the backups the counts govern, the newest of each of the N most recent periods is kept.
        var governed = history.Where(b => !b.Held && (Now - b.At).TotalHours >= rules.MinAgeHours && b.Label is not ("pre-migration" or "emergency")).OrderByDescending(b => b.At).ToList();
        DateTime Local(RetentionCandidate b) => TimeZoneInfo.ConvertTime(b.At, zone).DateTime;
        foreach (var (count, period) in new (int, Func<RetentionCandidate, string>)[]
        {
            (rules.Hourly, b => Local(b).ToString("yyyyMMddHH", CultureInfo.InvariantCulture)),
            (rules.Daily, b => Local(b).ToString("yyyyMMdd", CultureInfo.InvariantCulture)),
            (rules.Weekly, b => $"{ISOWeek.GetYear(Local(b))}-{ISOWeek.GetWeekOfYear(Local(b))}"),
            (rules.Monthly, b => Local(b).ToString("yyyyMM", CultureInfo.InvariantCulture)),
            (rules.Yearly, b => Local(b).ToString("yyyy", CultureInfo.InvariantCulture)),
        })
        {
            var newestPerPeriod = governed.GroupBy(period).Select(g => g.First()).Take(count).ToList();
            Assert.Equal(Math.Min(count, governed.Select(period).Distinct().Count()), newestPerPeriod.Count);
            Assert.All(newestPerPeriod, b => Assert.True(keep[b.BackupId]));
        }

        // It deletes a lot, and pruning what it kept again deletes nothing more.
        Assert.True(decisions.Count(d => !d.Keep) > history.Count / 2);
        var kept = history.Where(b => keep[b.BackupId]).ToList();
        Assert.All(RetentionPolicy.Evaluate(kept, rules, Now, zone), d => Assert.True(d.Keep, d.Rule));
    }

    [Fact]
    public async Task Prune_deletes_manifest_first_sweeps_crashed_backups_and_honours_holds()
    {
        using var catalog = await new TestCatalog().WithMasterKeyAsync();
        await using var source = await TestDatabase.CreateAsync("src");
        await source.ExecuteAsync("CREATE TABLE t AS SELECT g FROM generate_series(1, 50) g");
        await catalog.AddDatabaseAsync("shop", source.ConnectionUri);
        catalog.Options.Databases["shop"].Retention = new RetentionOptions { Daily = 2, MinAgeHours = 1 };
        var store = catalog.NewFileStore();
        var ids = new List<string>();
        foreach (var daysAgo in new[] { 10, 9, 8, 3, 2 })
        {
            ids.Add((await new BackupEngine(catalog.Options, store, catalog.Secrets, new FixedTime(DateTimeOffset.UtcNow.AddDays(-daysAgo))).BackupAsync("shop")).BackupId);
        }

        // A crashed backup three days ago (archive, no manifest) and one that may still be running (an hour ago).
        var crashed = (await new BackupEngine(catalog.Options, store, catalog.Secrets, new FixedTime(DateTimeOffset.UtcNow.AddDays(-3))).BackupAsync("shop")).BackupId;
        File.Delete(Path.Combine(catalog.Directory, "store", "shop", crashed, "manifest.json"));
        var recent = (await new BackupEngine(catalog.Options, store, catalog.Secrets, new FixedTime(DateTimeOffset.UtcNow.AddHours(-1))).BackupAsync("shop")).BackupId;
        File.Delete(Path.Combine(catalog.Directory, "store", "shop", recent, "manifest.json"));
        var engine = catalog.Engine(store);
        var retention = catalog.Retention(store);
        await retention.HoldAsync("shop", ids[0]);

        var dry = Assert.Single(await retention.PruneAsync("shop", dryRun: true));
        Assert.Equal(2, dry.Decisions.Count(d => !d.Keep));
        Assert.Equal([crashed], dry.OrphansSwept);
        Assert.Equal(5, (await engine.ListAsync("shop")).Count);

        var report = Assert.Single(await retention.PruneAsync("shop"));

        Assert.Equal(2, report.Deleted);
        var left = (await engine.ListAsync("shop")).Select(b => b.BackupId).ToList();
        Assert.Equal([ids[4], ids[3], ids[0]], left);
        Assert.Equal("held (sbk release removes the hold)", report.Decisions.Single(d => d.BackupId == ids[0]).Rule);
        foreach (var gone in new[] { ids[1], ids[2], crashed })
        {
            Assert.False(Directory.Exists(Path.Combine(catalog.Directory, "store", "shop", gone)) && Directory.EnumerateFileSystemEntries(Path.Combine(catalog.Directory, "store", "shop", gone)).Any());
        }

        Assert.True(File.Exists(Path.Combine(catalog.Directory, "store", "shop", recent, "archive"))); // too young to be called crashed
        await retention.ReleaseAsync("shop", ids[0]);
        var after = Assert.Single(await retention.PruneAsync("shop"));
        Assert.Equal(1, after.Deleted);
        Assert.Equal([ids[4], ids[3]], (await engine.ListAsync("shop")).Select(b => b.BackupId));
    }
}

public sealed class RetentionStallTests
{
    [Fact]
    public async Task Retention_that_has_deleted_nothing_for_a_month_while_backups_pile_up_tells_the_team_once()
    {
        await using var receiver = await LoopbackServer.StartAsync((context, _) => { context.Response.StatusCode = 200; return Task.CompletedTask; });
        using var catalog = await new TestCatalog().WithMasterKeyAsync();
        await using var source = await TestDatabase.CreateAsync("src");
        await catalog.AddDatabaseAsync("shop", source.ConnectionUri);
        // Everything is an "emergency" backup kept until released: nothing can ever go.
        catalog.Options.Databases["shop"].Retention = new RetentionOptions { Daily = 1, Labels = { ["emergency"] = new LabelRetention { KeepUntilReleased = true } } };
        await catalog.Secrets.SetSecretAsync("hook", new Uri(receiver.BaseUri, "/hook").ToString());
        catalog.Options.Notifications.Targets.Add(new NotificationTargetOptions { UrlSecret = "hook" });
        var store = catalog.NewFileStore();
        var start = DateTimeOffset.UtcNow.AddDays(-40);
        async Task BackupAt(DateTimeOffset at) => await new BackupEngine(catalog.Options, store, catalog.Secrets, new FixedTime(at)).BackupAsync("shop", "emergency");
        RetentionEngine At(DateTimeOffset at) => catalog.Retention(store, new FixedTime(at));

        await BackupAt(start);
        await At(start.AddHours(1)).PruneAsync("shop");
        await BackupAt(start.AddDays(10));
        await At(start.AddDays(10).AddHours(1)).PruneAsync("shop");
        Assert.Empty(receiver.Requests);
        await BackupAt(start.AddDays(31));
        await At(start.AddDays(31).AddHours(1)).PruneAsync("shop");
        await At(start.AddDays(32)).PruneAsync("shop");

        var note = Assert.Single(receiver.Requests);
        Assert.Contains("\"event\":\"retention-stalled\"", note.Body, StringComparison.Ordinal);
        Assert.Contains("has deleted nothing for 31 days", note.Body, StringComparison.Ordinal);
    }
}

public sealed class RetentionImmutabilityTests
{
    /// <summary>
    /// A real directory store with Azure's version-level immutability semantics layered on: every
    /// archive is immutable for a while after it is written, and a delete of a protected object is
    /// refused (Azurite implements neither immutability policies nor legal holds, so this is how
    /// the retention side is exercised here).
    /// </summary>
    private sealed class ImmutableArchives(IObjectStore inner, DateTimeOffset immutableUntil, Func<string, bool> isProtected) : DelegatingStore(inner)
    {
        public List<string> RefusedDeletes { get; } = [];

        private ObjectInfo? Protect(ObjectInfo? info) => info is not null && isProtected(info.Key) ? info with { ImmutableUntil = immutableUntil } : info;

        public override async Task<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default) => Protect(await Inner.GetInfoAsync(key, cancellationToken));

        public override async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await foreach (var item in Inner.ListAsync(prefix, cancellationToken))
            {
                yield return Protect(item)!;
            }
        }

        public override Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
        {
            if (isProtected(key))
            {
                RefusedDeletes.Add(key);
                throw new Errors.SbkException(Errors.SbkErrorKind.Failed, $"'{key}' is immutable.");
            }

            return Inner.DeleteAsync(key, cancellationToken);
        }
    }

    [Fact]
    public async Task Retention_never_tries_to_delete_what_the_store_keeps_immutable_and_says_so_in_a_dry_run()
    {
        using var catalog = await new TestCatalog().WithMasterKeyAsync();
        await using var source = await TestDatabase.CreateAsync("src");
        await source.ExecuteAsync("CREATE TABLE t (id int)");
        await catalog.AddDatabaseAsync("shop", source.ConnectionUri);
        catalog.Options.Databases["shop"].Retention = new RetentionOptions { Daily = 1, MinAgeHours = 0 };
        var files = catalog.NewFileStore();
        var ids = new List<string>();
        foreach (var daysAgo in new[] { 20, 10, 2, 1 })
        {
            ids.Add((await new BackupEngine(catalog.Options, files, catalog.Secrets, new FixedTime(DateTimeOffset.UtcNow.AddDays(-daysAgo))).BackupAsync("shop")).BackupId);
        }

        // The two younger-than-a-week backups are still immutable; the older two are not.
        var until = DateTimeOffset.UtcNow.AddDays(5);
        var store = new ImmutableArchives(files, until, key => key.EndsWith("/archive", StringComparison.Ordinal) && (key.Contains(ids[2], StringComparison.Ordinal) || key.Contains(ids[3], StringComparison.Ordinal)));
        var retention = catalog.Retention(store);

        var dry = Assert.Single(await retention.PruneAsync("shop", dryRun: true)).Decisions.ToDictionary(d => d.BackupId);
        Assert.False(dry[ids[0]].Keep);
        Assert.False(dry[ids[1]].Keep);
        Assert.True(dry[ids[2]].Keep);
        Assert.Contains("immutable until " + until.UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), dry[ids[2]].Rule, StringComparison.Ordinal);

        var report = Assert.Single(await retention.PruneAsync("shop"));

        Assert.Equal(2, report.Deleted);
        Assert.Empty(store.RefusedDeletes);
        Assert.Equal([ids[3], ids[2]], (await catalog.Engine(files).ListAsync("shop")).Select(b => b.BackupId));
    }
}
