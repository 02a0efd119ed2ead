using Npgsql;
using ServerlessBackup.Backups;
using ServerlessBackup.Errors;
using ServerlessBackup.Restore;
using ServerlessBackup.Tests.Infrastructure;

namespace ServerlessBackup.Tests;

/// <summary>
/// Restores into real (catalogued) databases: built beside them, checked, swapped in, undone by a
/// swap back; refused where the server does not allow it; locked against backups and other
/// restores; cancelled at every phase with the database left as it was. Real PostgreSQL and pg_restore.
/// </summary>
public sealed class SwapRestoreTests
{
    private const string Migration = """
        CREATE TABLE shipments (id serial PRIMARY KEY, invoice_id bigint NOT NULL REFERENCES "Billing".invoices(id) ON DELETE CASCADE, carrier text);
        INSERT INTO shipments (invoice_id, carrier) SELECT id, 'dhl' FROM "Billing".invoices WHERE id <= 200;
        UPDATE "Billing".invoices SET note = 'migrated' WHERE id <= 10;
        """;

    private sealed class Setup : IAsyncDisposable
    {
        public required TestCatalog Catalog { get; init; }

        public required TestDatabase Prod { get; init; }

        public required BackupEngine Backups { get; init; }

        public required RestoreEngine Restores { get; init; }

        public required Manifest Backup { get; init; }

        public required string TempDirectory { get; init; }

        public string? Role { get; init; }

        public async ValueTask DisposeAsync()
        {
            await using (var admin = new NpgsqlConnection(TestServers.AdminConnectionString()))
            {
                await admin.OpenAsync();
                foreach (var name in await BesideAsync(Prod))
                {
                    await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", admin);
                    await drop.ExecuteNonQueryAsync();
                }
            }

            await Prod.DisposeAsync();
            if (Role is not null)
            {
                await using var admin = new NpgsqlConnection(TestServers.AdminConnectionString());
                await admin.OpenAsync();
                await using var drop = new NpgsqlCommand($"DROP ROLE IF EXISTS \"{Role}\"", admin);
                await drop.ExecuteNonQueryAsync();
            }

            Catalog.Dispose();
        }
    }

    /// <summary>The databases sbk made beside <paramref name="database"/> (incoming copies and kept replaced ones).</summary>
    private static async Task<List<string>> BesideAsync(TestDatabase database)
    {
        await using var admin = new NpgsqlConnection(TestServers.AdminConnectionString());
        await admin.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT datname FROM pg_database WHERE (datname LIKE 'sbk\\_in\\_%' OR datname LIKE 'sbk\\_prev\\_%') AND datname LIKE '%\\_' || $1", admin);
        command.Parameters.Add(new NpgsqlParameter { Value = database.Name });
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    /// <summary>"prod" holds the fixture and is catalogued; one backup of it is taken.</summary>
    private static async Task<Setup> SetupAsync(bool unprivilegedRole = false)
    {
        var catalog = await new TestCatalog().WithMasterKeyAsync();
        await catalog.WithScratchAsync();
        catalog.Options.Dump.ChunkSizeKiB = 64;
        var temp = Path.Combine(catalog.Directory, "tmp");
        Directory.CreateDirectory(temp);
        catalog.Options.Scratch.TempDirectory = temp;
        var prod = await TestDatabase.CreateAsync("prod");
        string? role = null;
        var uri = prod.ConnectionUri;
        if (unprivilegedRole)
        {
            // An application role as managed services hand out: owns its database, may not create databases.
            role = "app_" + Guid.NewGuid().ToString("N")[..10];
            await using var admin = new NpgsqlConnection(TestServers.AdminConnectionString());
            await admin.OpenAsync();
            await using (var create = new NpgsqlCommand($"CREATE ROLE \"{role}\" LOGIN NOCREATEDB PASSWORD 'pw-{role}'; ALTER DATABASE \"{prod.Name}\" OWNER TO \"{role}\"", admin))
            {
                await create.ExecuteNonQueryAsync();
            }

            uri = $"postgres://{role}:pw-{role}@{TestServers.Host}:{TestServers.Port}/{prod.Name}?sslmode=disable";
            await using var asRole = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(prod.ConnectionString) { Username = role, Password = $"pw-{role}" }.ConnectionString);
            await asRole.OpenAsync();
            await using var schema = new NpgsqlCommand(Fixture.Schema, asRole);
            await schema.ExecuteNonQueryAsync();
        }
        else
        {
            await prod.ExecuteAsync(Fixture.Schema);
        }

        await catalog.AddDatabaseAsync("prod", uri);
        var backups = catalog.Engine(catalog.NewFileStore());
        var backup = await backups.BackupAsync("prod");
        return new Setup { Catalog = catalog, Prod = prod, Backups = backups, Restores = catalog.Restores(backups), Backup = backup, TempDirectory = temp, Role = role };
    }

    private static RestoreRequest IntoProd(string backupId) => new() { Database = "prod", Backup = backupId, Target = "prod", Confirm = "prod" };

    /// <summary>Runs <paramref name="action"/> once, synchronously, the first time the restore reports <paramref name="phase"/>.</summary>
    private sealed class OnPhase(WorkPhase phase, Action action) : IProgress<WorkProgress>
    {
        private int done;

        public bool Happened => done == 1;

        public void Report(WorkProgress value)
        {
            if (value.Phase == phase && Interlocked.Exchange(ref done, 1) == 0)
            {
                action();
            }
        }
    }

    [Fact]
    public async Task A_migration_rollback_swaps_the_pre_migration_state_in_and_a_swap_back_undoes_it()
    {
        await using var s = await SetupAsync();
        var beforeMigration = await s.Prod.FingerprintAsync();
        await s.Prod.ExecuteAsync(Migration);
        var afterMigration = await s.Prod.FingerprintAsync();

        var result = await s.Restores.RestoreAsync(IntoProd(s.Backup.BackupId));

        // The database under prod's name is the pre-migration one: no shipments, no foreign key left half-dropped.
        Assert.Equal(beforeMigration, await s.Prod.FingerprintAsync());
        Assert.Equal(0L, await s.Prod.ScalarAsync<long>("SELECT count(*) FROM pg_class WHERE relname = 'shipments'"));
        Assert.Equal(1L, await s.Prod.ScalarAsync<long>("SELECT count(*) FROM pg_constraint WHERE conname = 'invoices_account_id_fkey'"));
        var previous = Assert.IsType<PreviousDatabase>(result.Previous);
        Assert.NotNull(result.EmergencyBackupId);
        var listed = Assert.Single((await s.Restores.ListPreviousAsync("prod")).Previous);
        Assert.Equal(previous.Name, listed.Name);
        Assert.Equal(s.Backup.BackupId, listed.BackupId);
        Assert.Equal(afterMigration, await TestDatabase.Attach(previous.Name).FingerprintAsync());

        var (restored, aside) = await s.Restores.SwapBackAsync("prod");

        Assert.Equal(previous.Name, restored.Name);
        Assert.Equal(afterMigration, await s.Prod.FingerprintAsync());
        Assert.Equal(beforeMigration, await TestDatabase.Attach(aside.Name).FingerprintAsync());
        // And the swap back is itself undone by a swap back.
        await s.Restores.SwapBackAsync("prod");
        Assert.Equal(beforeMigration, await s.Prod.FingerprintAsync());
    }

    [Fact]
    public async Task The_swapped_in_database_keeps_the_owner_settings_grants_and_comment_of_the_one_it_replaced()
    {
        await using var s = await SetupAsync();
        var reader = "reader_" + Guid.NewGuid().ToString("N")[..10];
        await s.Prod.ExecuteAsync($"""
            CREATE ROLE "{reader}";
            ALTER DATABASE "{s.Prod.Name}" SET search_path = "$user", "Billing", public;
            ALTER DATABASE "{s.Prod.Name}" SET statement_timeout = '42s';
            REVOKE ALL ON DATABASE "{s.Prod.Name}" FROM PUBLIC;
            GRANT CONNECT ON DATABASE "{s.Prod.Name}" TO "{reader}";
            COMMENT ON DATABASE "{s.Prod.Name}" IS 'the shop''s data';
            """);
        try
        {
            var result = await s.Restores.RestoreAsync(IntoProd(s.Backup.BackupId));

            Assert.Empty(result.Notes ?? []);
            await using var admin = new NpgsqlConnection(TestServers.AdminConnectionString());
            await admin.OpenAsync();
            async Task<string?> Scalar(string sql)
            {
                await using var command = new NpgsqlCommand(sql, admin);
                command.Parameters.Add(new NpgsqlParameter { Value = s.Prod.Name });
                return (await command.ExecuteScalarAsync())?.ToString();
            }

            Assert.Equal("""{"search_path=\"$user\", \"Billing\", public",statement_timeout=42s}""", await Scalar("SELECT setconfig::text FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = $1 AND s.setrole = 0"));
            Assert.Equal("True", await Scalar($"SELECT has_database_privilege('{reader}', d.oid, 'CONNECT') FROM pg_database d WHERE d.datname = $1"));
            Assert.Equal("False", await Scalar("SELECT has_database_privilege('public', d.oid, 'CONNECT') FROM pg_database d WHERE d.datname = $1"));
            Assert.Equal("the shop's data", await Scalar("SELECT shobj_description(d.oid, 'pg_database') FROM pg_database d WHERE d.datname = $1"));
            Assert.Equal("postgres", await Scalar("SELECT pg_get_userbyid(d.datdba) FROM pg_database d WHERE d.datname = $1"));
            Assert.Contains("sbk-previous", await Scalar($"SELECT shobj_description(d.oid, 'pg_database') FROM pg_database d WHERE d.datname = '{result.Previous!.Name}' AND $1 IS NOT NULL"), StringComparison.Ordinal);
        }
        finally
        {
            foreach (var name in await BesideAsync(s.Prod))
            {
                await TestDatabase.Attach(name).DisposeAsync();
            }

            await s.Prod.DisposeAsync();
            await using var admin = new NpgsqlConnection(TestServers.AdminConnectionString());
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP ROLE IF EXISTS \"{reader}\"", admin);
            await drop.ExecuteNonQueryAsync();
        }
    }

    [Fact]
    public async Task A_backup_and_a_second_restore_of_the_database_being_restored_are_refused_as_already_running()
    {
        await using var s = await SetupAsync();
        SbkException? backupRefusal = null, restoreRefusal = null;
        var during = new OnPhase(WorkPhase.Restoring, () =>
        {
            backupRefusal = Assert.ThrowsAsync<SbkException>(() => s.Backups.BackupAsync("prod")).GetAwaiter().GetResult();
            restoreRefusal = Assert.ThrowsAsync<SbkException>(() => s.Restores.RestoreAsync(IntoProd(s.Backup.BackupId))).GetAwaiter().GetResult();
        });

        await s.Restores.RestoreAsync(IntoProd(s.Backup.BackupId), during);

        Assert.True(during.Happened);
        Assert.Equal(SbkErrorKind.AlreadyRunning, backupRefusal!.Kind);
        Assert.Contains("already running", backupRefusal.Message, StringComparison.Ordinal);
        Assert.Equal(SbkErrorKind.AlreadyRunning, restoreRefusal!.Kind);
        // Only the original and the restore's own emergency backup exist: the refused ones left nothing.
        Assert.Equal(2, (await s.Backups.ListAsync("prod")).Count);
        // Once the restore ended, the lock is free again.
        await s.Backups.BackupAsync("prod");
    }

    [Theory]
    [InlineData(WorkPhase.Downloading)]
    [InlineData(WorkPhase.Restoring)]
    [InlineData(WorkPhase.Checking)]
    [InlineData(WorkPhase.Swapping)]
    public async Task A_restore_cancelled_at_any_phase_leaves_the_database_as_it_was_and_nothing_behind(WorkPhase phase)
    {
        await using var s = await SetupAsync();
        await s.Prod.ExecuteAsync(Migration);
        var before = await s.Prod.FingerprintAsync();
        using var cancel = new CancellationTokenSource();
        var at = new OnPhase(phase, cancel.Cancel);

        var ex = await Assert.ThrowsAsync<CancelledException>(() => s.Restores.RestoreAsync(IntoProd(s.Backup.BackupId), at, cancel.Token));

        Assert.True(at.Happened);
        Assert.Contains("'prod' was left as it was", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, await s.Prod.FingerprintAsync());
        Assert.Empty(await BesideAsync(s.Prod));
        Assert.Empty(Directory.GetFileSystemEntries(s.TempDirectory));
        // The lock went with the restore.
        await s.Backups.BackupAsync("prod");
    }

    [Fact]
    public async Task A_restored_copy_that_fails_its_assertions_is_not_swapped_in()
    {
        await using var s = await SetupAsync();
        s.Catalog.Options.Databases["prod"].Assertions.Add(new Catalog.AssertionOptions { Name = "no accounts yet", Sql = "SELECT count(*) = 0 FROM \"Billing\".\"Customer Accounts\"" });
        await s.Prod.ExecuteAsync(Migration);
        var before = await s.Prod.FingerprintAsync();

        var ex = await Assert.ThrowsAsync<SbkException>(() => s.Restores.RestoreAsync(IntoProd(s.Backup.BackupId)));

        Assert.Contains("was not swapped in", ex.Message, StringComparison.Ordinal);
        Assert.Contains("no accounts yet", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, await s.Prod.FingerprintAsync());
        Assert.Empty(await BesideAsync(s.Prod));
    }

    [Fact]
    public async Task Without_CREATEDB_the_swap_is_refused_before_anything_changes_and_in_place_restores_in_one_transaction()
    {
        await using var s = await SetupAsync(unprivilegedRole: true);
        await s.Prod.ExecuteAsync("UPDATE \"Billing\".invoices SET note = 'changed' WHERE id <= 50");
        var changed = await s.Prod.FingerprintAsync();

        var refused = await Assert.ThrowsAsync<SbkException>(() => s.Restores.RestoreAsync(IntoProd(s.Backup.BackupId)));

        Assert.Equal(SbkErrorKind.Configuration, refused.Kind);
        Assert.Contains("CREATEDB", refused.Message, StringComparison.Ordinal);
        Assert.Contains("--in-place", refused.Message, StringComparison.Ordinal);
        Assert.Equal(changed, await s.Prod.FingerprintAsync());
        Assert.Single(await s.Backups.ListAsync("prod"));

        // --in-place: one transaction, so a restore that cannot drop a table others depend on changes nothing...
        await using (var asRole = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(s.Prod.ConnectionString) { Username = s.Role, Password = $"pw-{s.Role}" }.ConnectionString))
        {
            await asRole.OpenAsync();
            await using var migrate = new NpgsqlCommand(Migration, asRole);
            await migrate.ExecuteNonQueryAsync();
        }

        var migrated = await s.Prod.FingerprintAsync();
        var failed = await Assert.ThrowsAsync<SbkException>(() => s.Restores.RestoreAsync(IntoProd(s.Backup.BackupId) with { InPlace = true }));
        Assert.Contains("was not changed", failed.Message, StringComparison.Ordinal);
        Assert.Equal(migrated, await s.Prod.FingerprintAsync());

        // ... and, once the dependent table is gone, restores the whole database.
        await s.Prod.ExecuteAsync("DROP TABLE shipments");
        var result = await s.Restores.RestoreAsync(IntoProd(s.Backup.BackupId) with { InPlace = true });
        Assert.Null(result.Previous);
        await using var fresh = await TestDatabase.CreateAsync("chk");
        await fresh.ExecuteAsync(Fixture.Schema);
        Assert.Equal(await fresh.FingerprintAsync(), await s.Prod.FingerprintAsync());
        // --jobs cannot split one transaction: refused, naming why.
        var jobs = await Assert.ThrowsAsync<SbkException>(() => s.Restores.RestoreAsync(IntoProd(s.Backup.BackupId) with { InPlace = true, Jobs = 2 }));
        Assert.Contains("one transaction", jobs.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Before_picks_the_newest_backup_taken_before_an_instant()
    {
        await using var s = await SetupAsync();
        await s.Prod.ExecuteAsync("DELETE FROM \"Billing\".invoices WHERE id > 10");
        var second = await s.Backups.BackupAsync("prod");

        var chosen = await s.Backups.ShowBeforeAsync("prod", second.SnapshotTime);
        Assert.Equal(s.Backup.BackupId, chosen.Manifest.BackupId);
        Assert.Equal(second.BackupId, (await s.Backups.ShowBeforeAsync("prod", second.SnapshotTime.AddSeconds(1))).Manifest.BackupId);
        var none = await Assert.ThrowsAsync<SbkException>(() => s.Backups.ShowBeforeAsync("prod", s.Backup.SnapshotTime));
        Assert.Equal(SbkErrorKind.NotFound, none.Kind);
        Assert.Contains($"the oldest is {s.Backup.BackupId}", none.Message, StringComparison.Ordinal);

        var restored = await s.Restores.RestoreAsync(new RestoreRequest { Database = "prod", Before = second.SnapshotTime });
        await using var copy = TestDatabase.Attach(restored.Target);
        Assert.Equal(s.Backup.BackupId, restored.BackupId);
        Assert.Equal(3000L, await copy.ScalarAsync<long>("SELECT count(*) FROM \"Billing\".invoices"));
    }

    [Theory]
    [InlineData("2h", 2 * 60)]
    [InlineData("90m", 90)]
    [InlineData("2026-11-30T10:00:00Z", -1)]
    [InlineData("2026-11-30 11:00+01:00", -1)]
    [InlineData("2026-11-30T10:00:00.000+00:00", -1)]
    public void Instants_are_read_with_their_zone_or_as_a_span_ago(string text, int minutesAgo)
    {
        var now = new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
        var expected = minutesAgo >= 0 ? now.AddMinutes(-minutesAgo) : new DateTimeOffset(2026, 11, 30, 10, 0, 0, TimeSpan.Zero);
        Assert.Equal(expected, Instant.Parse(text, now));
    }

    [Theory]
    [InlineData("2026-11-30 10:00", "no time zone")]
    [InlineData("2026-11-30", "no time zone")]
    [InlineData("yesterday", "is not a time sbk can read")]
    [InlineData("5y", "is not a time sbk can read")]
    [InlineData("14:05", "is not a time sbk can read")]
    [InlineData("999999d", "reaches back before the year 1")]
    [InlineData("2026-13-45T10:00Z", "not a time")]
    public void An_instant_without_a_zone_or_unreadable_is_refused_saying_what_to_write(string text, string expected)
    {
        var ex = Assert.Throws<SbkException>(() => Instant.Parse(text, DateTimeOffset.UtcNow));
        Assert.Equal(SbkErrorKind.Configuration, ex.Kind);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }
}
