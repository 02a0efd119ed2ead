using Npgsql;
using ServerlessBackup.Backups;
using ServerlessBackup.Errors;
using ServerlessBackup.Restore;
using ServerlessBackup.Storage;
using ServerlessBackup.Tests.Infrastructure;

namespace ServerlessBackup.Tests;

public sealed class RestoreTests
{
    private sealed class Setup : IAsyncDisposable
    {
        public required TestCatalog Catalog { get; init; }

        public required TestDatabase Source { get; init; }

        public required IObjectStore Store { get; init; }

        public required BackupEngine Backups { get; init; }

        public required RestoreEngine Restores { get; init; }

        public required Manifest Backup { get; init; }

        public List<TestDatabase> Cleanup { get; } = [];

        public async ValueTask DisposeAsync()
        {
            foreach (var database in Cleanup)
            {
                await database.DisposeAsync();
            }

            await Source.DisposeAsync();
            Catalog.Dispose();
        }

        /// <summary>A database the test made or restored into, dropped at the end.</summary>
        public TestDatabase Track(string name, int? port = null)
        {
            var database = TestDatabase.Attach(name, port);
            Cleanup.Add(database);
            return database;
        }
    }

    private static async Task<Setup> SetupAsync(bool azurite = false, int? scratchPort = null)
    {
        var catalog = await new TestCatalog().WithMasterKeyAsync();
        await catalog.WithScratchAsync(scratchPort);
        catalog.Options.Dump.ChunkSizeKiB = 64;
        var source = await TestDatabase.CreateAsync("src");
        await source.ExecuteAsync(Fixture.Schema);
        await catalog.AddDatabaseAsync("shop", source.ConnectionUri);
        IObjectStore store = azurite ? TestServers.NewAzuriteStore() : catalog.NewFileStore();
        var backups = catalog.Engine(store);
        var manifest = await backups.BackupAsync("shop");
        return new Setup { Catalog = catalog, Source = source, Store = store, Backups = backups, Restores = catalog.Restores(backups), Backup = manifest };
    }

    [Fact]
    public async Task A_full_restore_to_scratch_reproduces_the_schema_and_every_row()
    {
        await using var s = await SetupAsync();

        var result = await s.Restores.RestoreAsync(new RestoreRequest { Database = "shop" });

        var copy = s.Track(result.Target);
        Assert.True(result.TargetIsScratch);
        Assert.StartsWith("sbk_scratch_shop_", result.Target, StringComparison.Ordinal);
        Assert.True(result.Target.Length <= 63);
        Assert.Equal(s.Backup.BackupId, result.BackupId);
        Assert.Equal(await s.Source.SchemaAsync(), await copy.SchemaAsync());
        Assert.Equal(await s.Source.FingerprintAsync(), await copy.FingerprintAsync());
        var listed = Assert.Single(await s.Restores.ListScratchAsync(), x => x.Name == result.Target);
        Assert.Equal("shop", listed.SourceDatabase);
        Assert.Equal(s.Backup.BackupId, listed.BackupId);
        Assert.True(listed.ExpiresAt > DateTimeOffset.UtcNow.AddHours(23));
    }

    [Fact]
    public async Task A_parallel_restore_from_Azurite_equals_a_serial_one_and_removes_its_temporary_file()
    {
        await using var s = await SetupAsync(azurite: true);
        var temp = Directory.CreateDirectory(Path.Combine(s.Catalog.Directory, "tmp")).FullName;
        s.Catalog.Options.Scratch.TempDirectory = temp;
        // Everything a parallel restore must put back in its place around the data it loads while the archive lands:
        // indexes, a trigger, a check, comments, a materialized view's rows (post-data), large objects, several tables.
        await s.Source.ExecuteAsync("""
            CREATE INDEX invoices_account_idx ON "Billing".invoices (account_id);
            CREATE FUNCTION "Billing".touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.note := coalesce(NEW.note, 'x'); RETURN NEW; END$$;
            CREATE TRIGGER invoices_touch BEFORE INSERT ON "Billing".invoices FOR EACH ROW EXECUTE FUNCTION "Billing".touch();
            ALTER TABLE "Billing".invoices ADD CONSTRAINT invoices_amount_positive CHECK (amount >= 0);
            COMMENT ON TABLE "Billing".invoices IS 'every invoice';
            CREATE MATERIALIZED VIEW "Billing".big_accounts AS SELECT account_id, count(*) AS n FROM "Billing".invoices GROUP BY account_id;
            CREATE TABLE events AS SELECT g AS id, md5(g::text) AS payload FROM generate_series(1, 20000) g;
            ALTER TABLE events ADD PRIMARY KEY (id);
            CREATE TABLE logos (id int PRIMARY KEY, image oid);
            INSERT INTO logos VALUES (1, lo_from_bytea(0, decode(repeat('cafe', 50000), 'hex'))), (2, lo_from_bytea(0, 'tiny'::bytea));
            """);
        await s.Backups.BackupAsync("shop");

        var serial = await s.Restores.RestoreAsync(new RestoreRequest { Database = "shop" });
        var parallel = await s.Restores.RestoreAsync(new RestoreRequest { Database = "shop", Jobs = 2 });

        var serialCopy = s.Track(serial.Target);
        var parallelCopy = s.Track(parallel.Target);
        Assert.Equal(2, parallel.Jobs);
        Assert.Equal(await serialCopy.FingerprintAsync(), await parallelCopy.FingerprintAsync());
        Assert.Equal(await s.Source.FingerprintAsync(), await parallelCopy.FingerprintAsync());
        Assert.Equal(await serialCopy.SchemaAsync(), await parallelCopy.SchemaAsync());
        Assert.Equal(await serialCopy.ScalarAsync<string>("SELECT string_agg(md5(lo_get(image)), ',' ORDER BY id) FROM logos"), await parallelCopy.ScalarAsync<string>("SELECT string_agg(md5(lo_get(image)), ',' ORDER BY id) FROM logos"));
        Assert.Equal("500", await parallelCopy.ScalarAsync<string>("SELECT count(*)::text FROM \"Billing\".big_accounts"));
        Assert.Empty(Directory.GetFileSystemEntries(temp));
    }

    [Fact]
    public async Task A_parallel_restore_reports_its_tables_loaded_until_all_are_in_not_only_its_bytes_which_arrive_first()
    {
        await using var s = await SetupAsync();
        await s.Source.ExecuteAsync("""
            CREATE TABLE events AS SELECT g AS id, md5(g::text) AS payload FROM generate_series(1, 50000) g;
            CREATE TABLE visits AS SELECT g AS id, g % 7 AS day FROM generate_series(1, 30000) g;
            """);
        var backup = await s.Backups.BackupAsync("shop");
        var tables = await s.Source.ScalarAsync<long>("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')");
        var reports = new System.Collections.Concurrent.ConcurrentQueue<WorkProgress>();

        var result = await s.Restores.RestoreAsync(new RestoreRequest { Database = "shop", Backup = backup.BackupId, Jobs = 2 }, new Callback(reports.Enqueue));

        s.Track(result.Target);
        var counted = reports.Where(r => r.Tables > 0).ToList();
        Assert.NotEmpty(counted);
        Assert.All(counted, r => Assert.Equal(tables, r.Tables));
        Assert.All(counted, r => Assert.InRange(r.TablesLoaded, 0, r.Tables));
        Assert.Contains(counted, r => r.TablesLoaded < r.Tables); // said while loading, not only at the end
        Assert.Contains(counted, r => r.TablesLoaded == r.Tables);
        Assert.True(tables >= 3, $"the source has {tables} tables");
        Assert.Contains("2 of 5 tables loaded", Cli.Interaction.Describe("restore shop", new WorkProgress(WorkPhase.Restoring, 1, 2, TimeSpan.FromSeconds(3)) { TablesLoaded = 2, Tables = 5 }), StringComparison.Ordinal);
        Assert.DoesNotContain("tables", Cli.Interaction.Describe("restore shop", new WorkProgress(WorkPhase.Restoring, 1, 2, TimeSpan.FromSeconds(3))), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_parallel_restore_stopped_by_CtrlC_while_its_tables_load_reports_nothing_after_it_stopped()
    {
        await using var s = await SetupAsync();
        await s.Source.ExecuteAsync("CREATE TABLE events AS SELECT g AS id, md5(g::text) AS payload FROM generate_series(1, 200000) g;");
        var backup = await s.Backups.BackupAsync("shop");
        using var cancel = new CancellationTokenSource();
        var reports = 0;
        var progress = new Callback(p =>
        {
            Interlocked.Increment(ref reports);
            if (p.Tables > 0)
            {
                cancel.Cancel(); // once the tables are being counted, that is, loading
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            s.Restores.RestoreAsync(new RestoreRequest { Database = "shop", Backup = backup.BackupId, Jobs = 2 }, progress, cancel.Token));
        var stopped = Volatile.Read(ref reports);
        await Task.Delay(TimeSpan.FromSeconds(2.5)); // more than two of the once-a-second reports

        Assert.Equal(stopped, Volatile.Read(ref reports));
        Assert.DoesNotContain(await s.Restores.ListScratchAsync(), x => x.BackupId == backup.BackupId);
    }

    /// <summary>Reports to <paramref name="action"/> once, when the restore first says it is restoring.</summary>
    private sealed class OnRestoring(Action action) : IProgress<WorkProgress>
    {
        private int done;

        public void Report(WorkProgress value)
        {
            if (value.Phase == WorkPhase.Restoring && value.StoredBytes > 0 && Interlocked.Exchange(ref done, 1) == 0)
            {
                action();
            }
        }
    }

    [Fact]
    public async Task A_parallel_restore_stopped_by_CtrlC_while_tables_load_drops_the_copy_and_leaves_no_file()
    {
        await using var s = await SetupAsync();
        var temp = Directory.CreateDirectory(Path.Combine(s.Catalog.Directory, "tmp")).FullName;
        s.Catalog.Options.Scratch.TempDirectory = temp;
        await s.Source.ExecuteAsync("CREATE TABLE events AS SELECT g AS id, md5(g::text) AS payload FROM generate_series(1, 100000) g;");
        var backup = await s.Backups.BackupAsync("shop");
        using var cancel = new CancellationTokenSource();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            s.Restores.RestoreAsync(new RestoreRequest { Database = "shop", Backup = backup.BackupId, Jobs = 2 }, new OnRestoring(cancel.Cancel), cancel.Token));

        Assert.DoesNotContain(await s.Restores.ListScratchAsync(), x => x.BackupId == backup.BackupId);
        Assert.Empty(Directory.GetFileSystemEntries(temp));
    }

    [Fact]
    public async Task A_restore_directory_that_is_a_file_or_where_no_directory_can_be_made_is_a_configuration_error_that_says_so_and_leaves_nothing()
    {
        await using var s = await SetupAsync();
        var backup = await s.Backups.BackupAsync("shop");
        var file = Path.Combine(s.Catalog.Directory, "not-a-directory");
        await File.WriteAllTextAsync(file, "x");
        var cases = new List<(string Directory, string Says)> { (file, "is a file, not a directory") };
        if (OperatingSystem.IsLinux())
        {
            cases.Add(("/proc", "could not make its directory for restore files in /proc"));
        }
        else
        {
            Console.WriteLine("Cannot run here: /proc, where no directory can be made, is Linux's.");
        }

        foreach (var (directory, says) in cases)
        {
            s.Catalog.Options.Scratch.TempDirectory = directory;
            var error = await Assert.ThrowsAsync<SbkException>(() => s.Restores.RestoreAsync(new RestoreRequest { Database = "shop", Backup = backup.BackupId, Jobs = 2 }));
            Assert.Equal(SbkErrorKind.Configuration, error.Kind);
            Assert.Contains(says, error.Message, StringComparison.Ordinal);
            Assert.Contains("Scratch:TempDirectory", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(await s.Restores.ListScratchAsync(), x => x.BackupId == backup.BackupId);
        }
    }

    [Fact]
    public async Task Listing_scratch_databases_while_another_instance_makes_and_drops_them_never_fails()
    {
        await using var s = await SetupAsync();
        // What the listing sees of a database another session is dropping: its row, and no files (a null size).
        using var churning = new CancellationTokenSource(TimeSpan.FromSeconds(4));
        async Task ChurnAsync()
        {
            await using var admin = new NpgsqlConnection(TestServers.AdminConnectionString());
            await admin.OpenAsync();
            var name = "sbk_scratch_churn_" + Guid.NewGuid().ToString("N")[..8];
            while (!churning.IsCancellationRequested)
            {
                await using (var create = new NpgsqlCommand($"CREATE DATABASE {name} TEMPLATE template0", admin))
                {
                    await create.ExecuteNonQueryAsync();
                }

                await using var drop = new NpgsqlCommand($"DROP DATABASE {name}", admin);
                await drop.ExecuteNonQueryAsync();
            }
        }

        var churn = Task.WhenAll(ChurnAsync(), ChurnAsync());
        var listings = 0;
        while (!churn.IsCompleted)
        {
            Assert.DoesNotContain(await s.Restores.ListScratchAsync(), x => x.Name.StartsWith("sbk_scratch_churn_", StringComparison.Ordinal)); // no sbk marker: not sbk's
            listings++;
        }

        await churn;
        Assert.True(listings > 20, $"{listings} listings");
    }

    [Fact]
    public async Task Two_instances_restoring_the_same_backup_in_parallel_each_make_a_whole_copy_of_their_own()
    {
        await using var s = await SetupAsync();
        var temp = Directory.CreateDirectory(Path.Combine(s.Catalog.Directory, "tmp")).FullName;
        s.Catalog.Options.Scratch.TempDirectory = temp;
        var other = s.Catalog.Restores(s.Catalog.Engine(s.Store)); // a second host running the same code on the same store

        var results = await Task.WhenAll(
            s.Restores.RestoreAsync(new RestoreRequest { Database = "shop", Jobs = 2 }),
            other.RestoreAsync(new RestoreRequest { Database = "shop", Jobs = 2 }));

        Assert.NotEqual(results[0].Target, results[1].Target);
        var source = await s.Source.FingerprintAsync();
        Assert.Equal(source, await s.Track(results[0].Target).FingerprintAsync());
        Assert.Equal(source, await s.Track(results[1].Target).FingerprintAsync());
        Assert.Empty(Directory.GetFileSystemEntries(temp));
    }

    /// <summary>A one-table database backed up to a store whose archive then arrives slowly: its block is the whole data section, so a parallel restore loads it while it arrives.</summary>
    private sealed class SlowOneTable : IAsyncDisposable
    {
        public required TestCatalog Catalog { get; init; }

        public required TestDatabase Source { get; init; }

        public required SlowArchives Store { get; init; }

        public required BackupEngine Backups { get; init; }

        public required Manifest Backup { get; init; }

        /// <summary>Where restores land archives (empty again once a restore has ended, however it ended).</summary>
        public required string Temp { get; init; }

        /// <summary>The stored archive, as the file store keeps it.</summary>
        public string ArchivePath => Path.Combine(Catalog.Directory, "store", "onebig", Backup.BackupId, "archive");

        public RestoreEngine Restores() => Catalog.Restores(Backups);

        public static async Task<SlowOneTable> CreateAsync()
        {
            var catalog = await new TestCatalog().WithMasterKeyAsync();
            await catalog.WithScratchAsync();
            catalog.Options.Dump.ChunkSizeKiB = 64;
            catalog.Options.Scratch.TempDirectory = Directory.CreateDirectory(Path.Combine(catalog.Directory, "tmp")).FullName;
            var source = await TestDatabase.CreateAsync("src");
            await source.ExecuteAsync("CREATE TABLE events AS SELECT g AS id, md5(g::text) AS payload, repeat('x', g % 50) AS pad FROM generate_series(1, 60000) g; ALTER TABLE events ADD PRIMARY KEY (id);");
            await catalog.AddDatabaseAsync("onebig", source.ConnectionUri);
            var slow = new SlowArchives(catalog.NewFileStore());
            var backups = catalog.Engine(slow);
            var backup = await backups.BackupAsync("onebig");
            slow.Slow = true;
            return new SlowOneTable { Catalog = catalog, Source = source, Store = slow, Backups = backups, Backup = backup, Temp = catalog.Options.Scratch.TempDirectory };
        }

        /// <summary>Completes once a COPY runs on a scratch copy of onebig while the archive is still arriving (never, if none does before <paramref name="stop"/>).</summary>
        public Task WhenLoadingWhileArrivingAsync(CancellationToken stop) => Task.Run(async () =>
        {
            await using var admin = new NpgsqlConnection(TestServers.AdminConnectionString());
            await admin.OpenAsync(stop);
            while (true)
            {
                await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE datname LIKE 'sbk\\_scratch\\_onebig\\_%' AND query LIKE 'COPY public.events %'", admin);
                if ((long)(await command.ExecuteScalarAsync(stop))! > 0 && !Store.ArchiveRead)
                {
                    return;
                }

                await Task.Delay(20, stop);
            }
        }, stop);

        /// <summary>No scratch copy of this backup is left, and no landed archive.</summary>
        public async Task AssertNothingLeftAsync(RestoreEngine restores)
        {
            Assert.DoesNotContain(await restores.ListScratchAsync(), x => x.BackupId == Backup.BackupId);
            Assert.Empty(Directory.GetFileSystemEntries(Temp));
        }

        public async ValueTask DisposeAsync()
        {
            await Source.DisposeAsync();
            Catalog.Dispose();
        }
    }

    [Fact]
    public async Task A_parallel_restore_loads_a_table_while_its_rows_are_still_arriving_and_the_copy_is_whole()
    {
        await using var s = await SlowOneTable.CreateAsync();
        using var done = new CancellationTokenSource();
        var watching = s.WhenLoadingWhileArrivingAsync(done.Token);
        var result = await s.Restores().RestoreAsync(new RestoreRequest { Database = "onebig", Jobs = 2 });
        await done.CancelAsync();
        var copyWhileArriving = await Task.WhenAny(watching) == watching && watching.IsCompletedSuccessfully;

        await using var copy = TestDatabase.Attach(result.Target);
        Assert.True(s.Store.ArchiveRead);
        Assert.True(copyWhileArriving, "no COPY ran on the scratch copy before the archive had all arrived");
        Assert.Equal(await s.Source.FingerprintAsync(), await copy.FingerprintAsync());
        Assert.Equal(await s.Source.SchemaAsync(), await copy.SchemaAsync());
    }

    [Fact]
    public async Task CtrlC_while_a_table_loads_from_rows_still_arriving_drops_the_copy_ends_its_load_and_leaves_no_file()
    {
        await using var s = await SlowOneTable.CreateAsync();
        var restores = s.Restores();
        using var cancel = new CancellationTokenSource();
        var loading = s.WhenLoadingWhileArrivingAsync(cancel.Token).ContinueWith(_ => cancel.Cancel(), TaskScheduler.Default);

        try
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => restores.RestoreAsync(new RestoreRequest { Database = "onebig", Jobs = 2 }, null, cancel.Token));
        }
        finally
        {
            await cancel.CancelAsync();
            await loading;
        }

        Assert.False(s.Store.ArchiveRead, "the archive had all arrived before Ctrl+C: the test did not stop a load mid-arrival");
        await s.AssertNothingLeftAsync(restores);
        Assert.Equal(0L, await s.Source.ScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE datname LIKE 'sbk\\_scratch\\_onebig\\_%'"));
    }

    [Fact]
    public async Task Two_instances_loading_tables_from_rows_still_arriving_each_make_a_whole_copy()
    {
        await using var s = await SlowOneTable.CreateAsync();
        var other = s.Catalog.Restores(s.Catalog.Engine(s.Store)); // a second host running the same code on the same store

        var results = await Task.WhenAll(
            s.Restores().RestoreAsync(new RestoreRequest { Database = "onebig", Jobs = 2 }),
            other.RestoreAsync(new RestoreRequest { Database = "onebig", Jobs = 2 }));

        Assert.NotEqual(results[0].Target, results[1].Target);
        foreach (var result in results)
        {
            await using var copy = TestDatabase.Attach(result.Target);
            Assert.Equal(await s.Source.FingerprintAsync(), await copy.FingerprintAsync());
        }

        Assert.Empty(Directory.GetFileSystemEntries(s.Temp));
    }

    [Fact]
    public async Task A_store_that_fails_while_a_table_loads_from_rows_still_arriving_leaves_no_half_made_copy_and_no_file()
    {
        await using var s = await SlowOneTable.CreateAsync();
        var restores = s.Restores();
        // What the store's boundary raises once its retries are spent on 500s or on no answer
        // (the real Azure store behind a faulty network is in FaultTests): after half the archive.
        s.Store.FailAfter = new FileInfo(s.ArchivePath).Length / 2;

        var ex = await Assert.ThrowsAsync<SbkException>(() => restores.RestoreAsync(new RestoreRequest { Database = "onebig", Jobs = 2 }));

        Assert.True(ex.IsTransient, ex.Message);
        await s.AssertNothingLeftAsync(restores);
    }

    [Fact]
    public async Task An_archive_edited_in_the_store_is_caught_while_a_table_loads_from_it_and_nothing_is_left()
    {
        await using var s = await SlowOneTable.CreateAsync();
        var restores = s.Restores();
        // Someone who may write the storage account but not read Key Vault flips a byte two thirds in.
        var bytes = await File.ReadAllBytesAsync(s.ArchivePath);
        bytes[bytes.Length * 2 / 3] ^= 0x20;
        await File.WriteAllBytesAsync(s.ArchivePath, bytes);

        await Assert.ThrowsAsync<IntegrityException>(() => restores.RestoreAsync(new RestoreRequest { Database = "onebig", Jobs = 2 }));

        await s.AssertNothingLeftAsync(restores);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task The_scratch_database_is_made_while_the_archive_opens_and_the_copy_is_whole(int jobs)
    {
        await using var s = await SetupAsync();
        var store = new ArchiveOpenings(s.Store);
        var restores = s.Catalog.Restores(s.Catalog.Engine(store));

        await using var held = await CreateDatabaseHeld.TakeAsync();

        var restoring = restores.RestoreAsync(new RestoreRequest { Database = "shop", Jobs = jobs });
        var openedBeforeCreated = await Task.WhenAny(store.Opened.Task, Task.Delay(TimeSpan.FromSeconds(10))) == store.Opened.Task;
        await held.ReleaseAsync();
        var result = await restoring;

        var copy = s.Track(result.Target);
        Assert.True(openedBeforeCreated, "the archive was not opened until the scratch database existed");
        Assert.Equal(await s.Source.FingerprintAsync(), await copy.FingerprintAsync());
        Assert.Equal(await s.Source.SchemaAsync(), await copy.SchemaAsync());
    }

    [Fact]
    public async Task A_store_that_does_not_answer_while_the_scratch_database_is_being_made_leaves_no_database()
    {
        await using var s = await SetupAsync();
        var store = new ArchiveOpenings(s.Store) { Fail = true };
        var restores = s.Catalog.Restores(s.Catalog.Engine(store));
        await using var held = await CreateDatabaseHeld.TakeAsync();

        var restoring = restores.RestoreAsync(new RestoreRequest { Database = "shop", Jobs = 2 });
        await store.Opened.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await Task.Delay(200); // the archive has failed; CREATE DATABASE is still waiting on the lock
        await held.ReleaseAsync();

        var ex = await Assert.ThrowsAsync<SbkException>(() => restoring);
        Assert.True(ex.IsTransient, ex.Message);
        Assert.Equal(0L, await ScratchCopiesOfAsync(s)); // dropped once its creation ended, not before
    }

    [Fact]
    public async Task CtrlC_while_the_scratch_database_is_being_made_leaves_no_database_and_no_file()
    {
        await using var s = await SetupAsync();
        var temp = Directory.CreateDirectory(Path.Combine(s.Catalog.Directory, "tmp")).FullName;
        s.Catalog.Options.Scratch.TempDirectory = temp;
        var store = new ArchiveOpenings(s.Store);
        var restores = s.Catalog.Restores(s.Catalog.Engine(store));
        await using var held = await CreateDatabaseHeld.TakeAsync();

        using var cancel = new CancellationTokenSource();
        var restoring = restores.RestoreAsync(new RestoreRequest { Database = "shop", Jobs = 2 }, null, cancel.Token);
        await store.Opened.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await Task.Delay(200); // CREATE DATABASE is waiting on the lock now
        await cancel.CancelAsync();
        await Task.Delay(200);
        await held.ReleaseAsync(); // whatever the server does with the cancelled CREATE, the drop after it may now run

        await Assert.ThrowsAsync<CancelledException>(() => restoring);
        Assert.Equal(0L, await ScratchCopiesOfAsync(s));
        Assert.Empty(Directory.GetFileSystemEntries(temp));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task A_scratch_role_that_may_not_create_databases_is_named_and_the_restore_leaves_nothing(int jobs)
    {
        await using var s = await SetupAsync();
        var temp = Directory.CreateDirectory(Path.Combine(s.Catalog.Directory, "tmp")).FullName;
        s.Catalog.Options.Scratch.TempDirectory = temp;
        var role = "noscratch_" + Guid.NewGuid().ToString("N")[..10];
        await s.Source.ExecuteAsync($"CREATE ROLE \"{role}\" LOGIN NOCREATEDB PASSWORD 'pw-{role}'");
        try
        {
            await s.Catalog.Secrets.SetSecretAsync("scratch-admin", $"postgres://{role}:pw-{role}@{TestServers.Host}:{TestServers.Port}/postgres?sslmode=disable");

            var ex = await Assert.ThrowsAsync<SbkException>(() => s.Restores.RestoreAsync(new RestoreRequest { Database = "shop", Jobs = jobs }));

            Assert.Equal(SbkErrorKind.Configuration, ex.Kind);
            Assert.Contains($"ALTER ROLE {role} CREATEDB", ex.Message, StringComparison.Ordinal);
            Assert.DoesNotContain($"pw-{role}", ex.Message, StringComparison.Ordinal);
            Assert.Empty(Directory.GetFileSystemEntries(temp));
            Assert.Equal(0L, await ScratchCopiesOfAsync(s));
        }
        finally
        {
            await s.Source.ExecuteAsync($"DROP ROLE IF EXISTS \"{role}\"");
        }
    }

    [Fact]
    public async Task A_parallel_restore_that_cannot_land_its_archive_is_refused_before_anything_is_read_saying_how_much_it_needs()
    {
        await using var s = await SetupAsync();
        var small = Path.Combine(s.Catalog.Directory, "small");
        await using var mounted = await SmallFileSystem.TryMountAsync(small, 16);
        if (mounted is not null)
        {
            s.Catalog.Options.Scratch.TempDirectory = small;

            var ex = await Assert.ThrowsAsync<SbkException>(() => s.Restores.RestoreAsync(new RestoreRequest { Database = "shop", Jobs = 2 }));

            Assert.Equal(SbkErrorKind.Configuration, ex.Kind);
            Assert.Contains($"with --jobs 2 needs", ex.Message, StringComparison.Ordinal);
            Assert.Contains($"in {small}, which has 16 MiB free", ex.Message, StringComparison.Ordinal);
            Assert.Contains("restore with --jobs 1", ex.Message, StringComparison.Ordinal);
            Assert.Empty(Directory.GetFileSystemEntries(small));
            Assert.Equal(0L, await ScratchCopiesOfAsync(s));
        }
    }

    [Fact]
    public async Task A_manifest_whose_archive_size_was_edited_fails_authentication_before_the_room_to_land_it_is_judged()
    {
        await using var s = await SetupAsync();
        var temp = Directory.CreateDirectory(Path.Combine(s.Catalog.Directory, "tmp")).FullName;
        s.Catalog.Options.Scratch.TempDirectory = temp;
        // Someone who may write the storage account but not read Key Vault makes the backup look a petabyte large, so that restores refuse it for want of room.
        var manifest = Path.Combine(s.Catalog.Directory, "store", "shop", s.Backup.BackupId, "manifest.json");
        var text = await File.ReadAllTextAsync(manifest);
        var edited = System.Text.RegularExpressions.Regex.Replace(text, "\"dumpLength\":\\s*\\d+", "\"dumpLength\":1000000000000000");
        Assert.NotEqual(text, edited);
        await File.WriteAllTextAsync(manifest, edited);

        await Assert.ThrowsAsync<IntegrityException>(() => s.Restores.RestoreAsync(new RestoreRequest { Database = "shop", Jobs = 2 }));

        Assert.Empty(Directory.GetFileSystemEntries(temp));
        Assert.Equal(0L, await ScratchCopiesOfAsync(s));
    }

    /// <summary>Databases on the server named after the setup's backup (scratch copies, marked or not).</summary>
    private static Task<long> ScratchCopiesOfAsync(Setup s)
    {
        var id = s.Backup.BackupId.Replace("T", string.Empty, StringComparison.Ordinal).Replace("Z-", string.Empty, StringComparison.Ordinal).ToLowerInvariant();
        return s.Source.ScalarAsync<long>($"SELECT count(*) FROM pg_database WHERE datname LIKE '%{id}%'");
    }

    /// <summary>A session holding pg_database in SHARE mode: every CREATE DATABASE (and DROP DATABASE) on the test server waits until it is released.</summary>
    private sealed class CreateDatabaseHeld : IAsyncDisposable
    {
        private readonly NpgsqlConnection connection;
        private readonly NpgsqlTransaction transaction;

        private CreateDatabaseHeld(NpgsqlConnection connection, NpgsqlTransaction transaction) => (this.connection, this.transaction) = (connection, transaction);

        public static async Task<CreateDatabaseHeld> TakeAsync()
        {
            var connection = new NpgsqlConnection(TestServers.AdminConnectionString());
            await connection.OpenAsync();
            var transaction = await connection.BeginTransactionAsync();
            await using (var take = new NpgsqlCommand("LOCK TABLE pg_catalog.pg_database IN SHARE MODE", connection, transaction))
            {
                await take.ExecuteNonQueryAsync();
            }

            return new CreateDatabaseHeld(connection, transaction);
        }

        public Task ReleaseAsync() => transaction.CommitAsync();

        public async ValueTask DisposeAsync()
        {
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }
    }

    /// <summary>The file store, telling when an archive is first opened for reading.</summary>
    private sealed class ArchiveOpenings(IObjectStore inner) : DelegatingStore(inner)
    {
        public TaskCompletionSource Opened { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Archives do not open: as the store fails once its retries on 500s or silence are spent.</summary>
        public bool Fail { get; init; }

        public override async Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default)
        {
            var stream = await Inner.OpenReadAsync(key, cancellationToken);
            if (key.EndsWith("/archive", StringComparison.Ordinal))
            {
                Opened.TrySetResult();
                if (Fail)
                {
                    await stream.DisposeAsync();
                    throw new SbkException(SbkErrorKind.Failed, "The store did not answer (test).", isTransient: true);
                }
            }

            return stream;
        }
    }

    /// <summary>A file store whose archives, once <see cref="Slow"/>, arrive 16 KiB at a time with a 20 ms pause between (under 1 MB/s: about 2 s for the one-table archive, so that loading starts well before it has all arrived, even while the scratch database is still being made on a loaded machine): a download slower than the load.</summary>
    private sealed class SlowArchives(IObjectStore inner) : DelegatingStore(inner)
    {
        public bool Slow { get; set; }

        /// <summary>After this many bytes of an archive, reads fail as the store fails once its retries are spent (0: never).</summary>
        public long FailAfter { get; set; }

        /// <summary>An archive has been read to its end since it became slow.</summary>
        public bool ArchiveRead { get; private set; }

        public override async Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default)
        {
            var stream = await Inner.OpenReadAsync(key, cancellationToken);
            return Slow && key.EndsWith("/archive", StringComparison.Ordinal) ? new Trickle(stream, () => ArchiveRead = true, FailAfter) : stream;
        }

        private sealed class Trickle(Stream inner, Action ended, long failAfter) : Streams.ReadOnlyStream
        {
            private long read;

            public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            {
                await Task.Delay(20, cancellationToken);
                if (failAfter > 0 && read >= failAfter)
                {
                    throw new SbkException(SbkErrorKind.Failed, "The store did not answer (test).", isTransient: true);
                }

                var n = await inner.ReadAsync(buffer[..Math.Min(buffer.Length, 16 << 10)], cancellationToken);
                read += n;
                if (n == 0)
                {
                    ended();
                }

                return n;
            }

            protected override void Dispose(bool disposing)
            {
                if (disposing)
                {
                    inner.Dispose();
                }

                base.Dispose(disposing);
            }
        }
    }

    [Fact]
    public async Task A_single_table_restore_holds_that_tables_rows_and_no_others_with_its_indexes_constraints_and_triggers()
    {
        await using var s = await SetupAsync();
        await s.Source.ExecuteAsync("""
            CREATE INDEX invoices_account_idx ON "Billing".invoices (account_id);
            CREATE FUNCTION "Billing".touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.note := coalesce(NEW.note, 'x'); RETURN NEW; END$$;
            CREATE TRIGGER invoices_touch BEFORE INSERT ON "Billing".invoices FOR EACH ROW EXECUTE FUNCTION "Billing".touch();
            ALTER TABLE "Billing".invoices ADD CONSTRAINT invoices_amount_positive CHECK (amount >= 0);
            """);
        var backup = await s.Backups.BackupAsync("shop");

        var result = await s.Restores.RestoreAsync(new RestoreRequest { Database = "shop", Backup = backup.BackupId, Tables = ["invoices"] });

        var copy = s.Track(result.Target);
        Assert.Equal(["Billing.invoices"], result.Tables);
        var source = await s.Source.FingerprintAsync();
        var restored = await copy.FingerprintAsync();
        Assert.Equal(source["Billing.invoices"], restored["Billing.invoices"]);
        Assert.StartsWith("0:", restored["Billing.Customer Accounts"], StringComparison.Ordinal);
        Assert.Equal(3000L, await copy.ScalarAsync<long>("SELECT count(*) FROM \"Billing\".invoices"));
        Assert.Equal(1L, await copy.ScalarAsync<long>("SELECT count(*) FROM pg_indexes WHERE indexname = 'invoices_account_idx'"));
        Assert.Equal(1L, await copy.ScalarAsync<long>("SELECT count(*) FROM pg_trigger WHERE tgname = 'invoices_touch'"));
        Assert.Equal(2L, await copy.ScalarAsync<long>("SELECT count(*) FROM pg_constraint WHERE conname IN ('invoices_pkey', 'invoices_amount_positive')"));
        // Its foreign key points at a table restored empty, so it is left out rather than failing the restore.
        Assert.Equal(0L, await copy.ScalarAsync<long>("SELECT count(*) FROM pg_constraint WHERE conname = 'invoices_account_id_fkey'"));
    }

    [Fact]
    public async Task A_restore_into_an_existing_scratch_copy_replaces_it_only_when_it_succeeded()
    {
        await using var s = await SetupAsync();
        var first = await s.Restores.RestoreAsync(new RestoreRequest { Database = "shop" });
        var copy = s.Track(first.Target);
        await s.Source.ExecuteAsync("DELETE FROM \"Billing\".invoices WHERE id > 100");
        var second = await s.Backups.BackupAsync("shop");

        var replaced = await s.Restores.RestoreAsync(new RestoreRequest { Database = "shop", Backup = second.BackupId, Target = first.Target });

        Assert.Equal(first.Target, replaced.Target);
        Assert.Equal(first.ExpiresAt, replaced.ExpiresAt);
        Assert.Equal(100L, await copy.ScalarAsync<long>("SELECT count(*) FROM \"Billing\".invoices"));
        var listed = Assert.Single(await s.Restores.ListScratchAsync(), x => x.Name == first.Target);
        Assert.Equal(second.BackupId, listed.BackupId);
        Assert.True(listed.Complete);
        var held = await copy.FingerprintAsync();

        // A third backup whose archive was tampered with: the restore fails and the copy is as it was.
        await s.Source.ExecuteAsync("DELETE FROM \"Billing\".invoices WHERE id > 50");
        var third = await s.Backups.BackupAsync("shop");
        var path = Path.Combine(s.Catalog.Directory, "store", "shop", third.BackupId, "archive");
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0x01;
        File.WriteAllBytes(path, bytes);

        await Assert.ThrowsAsync<IntegrityException>(() => s.Restores.RestoreAsync(new RestoreRequest { Database = "shop", Backup = third.BackupId, Target = first.Target }));

        Assert.Equal(held, await copy.FingerprintAsync());
        var all = await s.Restores.ListScratchAsync();
        Assert.Equal(second.BackupId, Assert.Single(all, x => x.Name == first.Target).BackupId);
        Assert.DoesNotContain(all, x => x.BackupId == third.BackupId);
    }

    [Fact]
    public async Task A_scratch_database_is_listed_as_incomplete_while_its_restore_runs()
    {
        await using var s = await SetupAsync();
        bool? completeWhileRestoring = null;
        var progress = new Callback(p =>
        {
            if (p.Phase == WorkPhase.Restoring && completeWhileRestoring is null)
            {
                completeWhileRestoring = s.Restores.ListScratchAsync().GetAwaiter().GetResult().Single(x => x.BackupId == s.Backup.BackupId).Complete;
            }
        });

        var result = await s.Restores.RestoreAsync(new RestoreRequest { Database = "shop" }, progress);

        s.Track(result.Target);
        Assert.False(completeWhileRestoring);
        Assert.True(Assert.Single(await s.Restores.ListScratchAsync(), x => x.Name == result.Target).Complete);
    }

    private sealed class Callback(Action<WorkProgress> action) : IProgress<WorkProgress>
    {
        public void Report(WorkProgress value) => action(value);
    }

    [Fact]
    public async Task A_data_only_restore_of_one_table_reloads_it_into_an_existing_scratch_copy()
    {
        await using var s = await SetupAsync();
        var full = await s.Restores.RestoreAsync(new RestoreRequest { Database = "shop" });
        var copy = s.Track(full.Target);
        await copy.ExecuteAsync("TRUNCATE \"Billing\".invoices");

        var result = await s.Restores.RestoreAsync(new RestoreRequest { Database = "shop", Target = full.Target, Tables = ["Billing.invoices"], DataOnly = true });

        Assert.True(result.DataOnly);
        Assert.Equal((await s.Source.FingerprintAsync())["Billing.invoices"], (await copy.FingerprintAsync())["Billing.invoices"]);
    }

    [Fact]
    public async Task Restore_errors_fail_the_restore_with_their_count_unless_tolerated()
    {
        await using var s = await SetupAsync();
        var full = await s.Restores.RestoreAsync(new RestoreRequest { Database = "shop" });
        s.Track(full.Target);

        // Loading the data again over itself violates the primary key.
        var ex = await Assert.ThrowsAsync<SbkException>(() => s.Restores.RestoreAsync(new RestoreRequest { Database = "shop", Target = full.Target, Tables = ["invoices"], DataOnly = true }));
        Assert.Equal(SbkErrorKind.Failed, ex.Kind);
        Assert.Contains("1 error(s)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("duplicate key value violates unique constraint", ex.Message, StringComparison.Ordinal);

        var tolerated = await s.Restores.RestoreAsync(new RestoreRequest { Database = "shop", Target = full.Target, Tables = ["invoices"], DataOnly = true, Tolerate = ["duplicate key value"] });
        Assert.Equal(1, tolerated.ToleratedErrors);
    }

    [Fact]
    public async Task A_restore_into_a_newer_PostgreSQL_17_scratch_server_reproduces_every_row()
    {
        await using var s = await SetupAsync(scratchPort: TestServers.Pg17Port);

        var result = await s.Restores.RestoreAsync(new RestoreRequest { Database = "shop" });

        var copy = s.Track(result.Target, TestServers.Pg17Port);
        Assert.Equal(await s.Source.FingerprintAsync(), await copy.FingerprintAsync());
    }

    [Fact]
    public async Task Refusals_explain_themselves_and_change_nothing()
    {
        await using var s = await SetupAsync();
        await using var prod = await TestDatabase.CreateAsync("prod");
        await prod.ExecuteAsync("CREATE TABLE precious (id int); INSERT INTO precious VALUES (1), (2)");
        await s.Catalog.AddDatabaseAsync("prod", prod.ConnectionUri);
        await using var other = await TestDatabase.CreateAsync("other");
        await other.ExecuteAsync("CREATE TABLE t (id int)");
        await s.Catalog.AddDatabaseAsync("other", other.ConnectionUri);
        await s.Backups.BackupAsync("other");
        var otherScratch = await s.Restores.RestoreAsync(new RestoreRequest { Database = "other" });
        s.Track(otherScratch.Target);
        var before = await prod.FingerprintAsync();
        var scratchBefore = (await s.Restores.ListScratchAsync()).Count(x => x.BackupId == s.Backup.BackupId);

        async Task<string> Refused(RestoreRequest request)
        {
            var ex = await Assert.ThrowsAsync<SbkException>(() => s.Restores.RestoreAsync(request));
            Assert.Equal(SbkErrorKind.Configuration, ex.Kind);
            Assert.Contains("Nothing was changed.", ex.Message, StringComparison.Ordinal);
            return ex.Message;
        }

        Assert.Contains("--target prod --confirm prod", await Refused(new RestoreRequest { Database = "shop", Target = "prod" }), StringComparison.Ordinal);
        Assert.Contains("does not repeat the target 'prod'", await Refused(new RestoreRequest { Database = "shop", Target = "prod", Confirm = "prdo" }), StringComparison.Ordinal);
        Assert.Contains("holds a copy of 'other'", await Refused(new RestoreRequest { Database = "shop", Target = otherScratch.Target }), StringComparison.Ordinal);
        Assert.Contains("neither a scratch database nor a catalogued database", await Refused(new RestoreRequest { Database = "shop", Target = "postgres", Confirm = "postgres" }), StringComparison.Ordinal);
        Assert.Contains("no scratch database named", await Refused(new RestoreRequest { Database = "shop", Target = "sbk_scratch_shop_nope" }), StringComparison.Ordinal);
        Assert.Contains("needs an existing schema", await Refused(new RestoreRequest { Database = "shop", DataOnly = true }), StringComparison.Ordinal);
        Assert.Contains("drop and recreate", await Refused(new RestoreRequest { Database = "shop", Target = "prod", Confirm = "prod", Tables = ["invoices"] }), StringComparison.Ordinal);

        Assert.Equal(before, await prod.FingerprintAsync());
        Assert.Empty(await s.Backups.ListAsync("prod"));
        Assert.Equal(scratchBefore, (await s.Restores.ListScratchAsync()).Count(x => x.BackupId == s.Backup.BackupId));
    }

    [Fact]
    public async Task A_confirmed_restore_into_a_catalogued_database_backs_it_up_first()
    {
        await using var s = await SetupAsync();
        await using var prod = await TestDatabase.CreateAsync("prod");
        await prod.ExecuteAsync(Fixture.Schema);
        await prod.ExecuteAsync("DELETE FROM \"Billing\".invoices WHERE id > 100; UPDATE \"Billing\".\"Customer Accounts\" SET balance = 0");
        await s.Catalog.AddDatabaseAsync("prod", prod.ConnectionUri);
        var before = await prod.FingerprintAsync();

        var result = await s.Restores.RestoreAsync(new RestoreRequest { Database = "shop", Target = "prod", Confirm = "prod" });

        Assert.False(result.TargetIsScratch);
        // The database it replaced is kept beside it, as it was.
        var previous = s.Track(result.Previous!.Name);
        Assert.Equal(before, await previous.FingerprintAsync());
        Assert.Equal(await s.Source.FingerprintAsync(), await prod.FingerprintAsync());
        var emergency = Assert.Single(await s.Backups.ListAsync("prod"));
        Assert.Equal(result.EmergencyBackupId, emergency.BackupId);
        Assert.Equal("emergency", emergency.Label);
        // The emergency backup holds prod as it was before the restore.
        var archive = Path.Combine(s.Catalog.Directory, "prod-before.dump");
        await s.Backups.DecryptAsync("prod", emergency.BackupId, archive);
        await using var check = await TestDatabase.CreateAsync("check");
        var (exit, errors) = await PgTools.RestoreAsync(archive, check);
        Assert.True(exit == 0, errors);
        Assert.Equal(before, await check.FingerprintAsync());
    }

    [Fact]
    public async Task A_restore_into_a_catalogued_database_is_refused_when_its_emergency_backup_fails()
    {
        await using var s = await SetupAsync();
        await using var prod = await TestDatabase.CreateAsync("prod");
        await prod.ExecuteAsync("CREATE TABLE precious (id int); INSERT INTO precious VALUES (1)");
        await s.Catalog.AddDatabaseAsync("prod", prod.ConnectionUri);
        var before = await prod.FingerprintAsync();
        // A session holding an exclusive lock on its table makes pg_dump give up after the lock wait timeout.
        s.Catalog.Options.Dump.LockWaitTimeoutSeconds = 1;
        await using var blocker = new NpgsqlConnection(prod.ConnectionString);
        await blocker.OpenAsync();
        await using var transaction = await blocker.BeginTransactionAsync();
        await using (var lockIt = new NpgsqlCommand("LOCK TABLE precious IN ACCESS EXCLUSIVE MODE", blocker, transaction))
        {
            await lockIt.ExecuteNonQueryAsync();
        }

        var ex = await Assert.ThrowsAsync<SbkException>(() => s.Restores.RestoreAsync(new RestoreRequest { Database = "shop", Target = "prod", Confirm = "prod" }));
        await transaction.RollbackAsync();

        Assert.Contains("Refusing to restore into 'prod': its emergency backup failed", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, await prod.FingerprintAsync());
        Assert.Empty(await s.Backups.ListAsync("prod"));
    }

    [Fact]
    public async Task A_restore_into_a_catalogued_database_whose_backup_is_running_is_refused_as_already_running()
    {
        await using var s = await SetupAsync();
        await using var prod = await TestDatabase.CreateAsync("prod");
        await prod.ExecuteAsync("CREATE TABLE precious (id int); INSERT INTO precious VALUES (1)");
        await s.Catalog.AddDatabaseAsync("prod", prod.ConnectionUri);
        var before = await prod.FingerprintAsync();
        await using var held = await s.Store.TryAcquireLockAsync(BackupLayout.Lock("prod"));

        var ex = await Assert.ThrowsAsync<SbkException>(() => s.Restores.RestoreAsync(new RestoreRequest { Database = "shop", Target = "prod", Confirm = "prod" }));

        Assert.Equal(SbkErrorKind.AlreadyRunning, ex.Kind);
        Assert.Contains("already running", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, await prod.FingerprintAsync());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)] // tables already loading while the archive lands when the bad chunk arrives
    public async Task A_tampered_archive_aborts_the_restore_and_drops_the_half_restored_scratch_database(int jobs)
    {
        await using var s = await SetupAsync();
        var temp = Directory.CreateDirectory(Path.Combine(s.Catalog.Directory, "tmp")).FullName;
        s.Catalog.Options.Scratch.TempDirectory = temp;
        var path = Path.Combine(s.Catalog.Directory, "store", "shop", s.Backup.BackupId, "archive");
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length * 3 / 4] ^= 0x20;
        File.WriteAllBytes(path, bytes);

        await Assert.ThrowsAsync<IntegrityException>(() => s.Restores.RestoreAsync(new RestoreRequest { Database = "shop", Keep = true, Jobs = jobs }));

        Assert.DoesNotContain(await s.Restores.ListScratchAsync(), x => x.BackupId == s.Backup.BackupId);
        Assert.Empty(Directory.GetFileSystemEntries(temp));
    }

    [Fact]
    public async Task The_scratch_server_must_not_be_the_source_server_unless_allowed()
    {
        await using var s = await SetupAsync();
        s.Catalog.Options.Scratch.AllowSourceServer = false;

        var ex = await Assert.ThrowsAsync<SbkException>(() => s.Restores.RestoreAsync(new RestoreRequest { Database = "shop" }));

        Assert.Equal(SbkErrorKind.Configuration, ex.Kind);
        Assert.Contains("AllowSourceServer", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(await s.Restores.ListScratchAsync(), x => x.BackupId == s.Backup.BackupId);
    }

    [Fact]
    public async Task A_backup_from_a_newer_pg_dump_asks_for_the_matching_pg_restore()
    {
        await using var s = await SetupAsync();
        await TestManifests.RewriteAsync(s.Store, s.Catalog.Secrets, s.Catalog.Options.MasterKeySecret, "shop", s.Backup.BackupId,
            (m, p) => (m with { Source = m.Source with { PgDumpVersion = "99.1" } }, p));

        var ex = await Assert.ThrowsAsync<SbkException>(() => s.Restores.RestoreAsync(new RestoreRequest { Database = "shop" }));

        Assert.Equal(SbkErrorKind.Configuration, ex.Kind);
        Assert.Contains("postgresql-client-99", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_table_is_named_with_suggestions()
    {
        await using var s = await SetupAsync();

        var ex = await Assert.ThrowsAsync<SbkException>(() => s.Restores.RestoreAsync(new RestoreRequest { Database = "shop", Tables = ["invoice"] }));

        Assert.Equal(SbkErrorKind.NotFound, ex.Kind);
        Assert.Contains("Did you mean Billing.invoices?", ex.Message, StringComparison.Ordinal);
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    [Fact]
    public async Task The_janitor_drops_expired_scratch_databases_and_nothing_else()
    {
        await using var s = await SetupAsync();
        var past = s.Catalog.Restores(s.Backups, new FixedClock(DateTimeOffset.UtcNow.AddDays(-3)));
        var expired = await past.RestoreAsync(new RestoreRequest { Database = "shop" });
        var fresh = await s.Restores.RestoreAsync(new RestoreRequest { Database = "shop" });
        var expiredDb = s.Track(expired.Target);
        var freshDb = s.Track(fresh.Target);
        // Look-alikes: the prefix without the marker, and a marker-like comment without the prefix.
        await using var decoy = await CreateNamedAsync("sbk_scratch_decoy_" + Guid.NewGuid().ToString("N")[..8]);
        await using var unmarked = await TestDatabase.CreateAsync("plain");
        await using (var admin = new NpgsqlConnection(TestServers.AdminConnectionString()))
        {
            await admin.OpenAsync();
            await using var comment = new NpgsqlCommand($"COMMENT ON DATABASE \"{unmarked.Name}\" IS '{{\"Kind\":\"sbk-scratch\",\"Version\":1,\"Source\":\"shop\",\"BackupId\":\"x\",\"CreatedAt\":\"2020-01-01T00:00:00Z\",\"ExpiresAt\":\"2020-01-02T00:00:00Z\"}}'", admin);
            await comment.ExecuteNonQueryAsync();
        }

        var dry = await s.Restores.SweepScratchAsync(dryRun: true);
        Assert.Contains(dry, x => x.Name == expired.Target);
        Assert.True(await expiredDb.ExistsAsync());

        var swept = await s.Restores.SweepScratchAsync();

        Assert.Contains(swept, x => x.Name == expired.Target);
        Assert.DoesNotContain(swept, x => x.Name == fresh.Target);
        Assert.False(await expiredDb.ExistsAsync());
        Assert.True(await freshDb.ExistsAsync());
        Assert.True(await decoy.ExistsAsync());
        Assert.True(await unmarked.ExistsAsync());
        Assert.True(await s.Source.ExistsAsync());
        var refused = await Assert.ThrowsAsync<SbkException>(() => s.Restores.DropScratchAsync(decoy.Name));
        Assert.Equal(SbkErrorKind.NotFound, refused.Kind);
        Assert.True(await decoy.ExistsAsync());

        await s.Restores.DropScratchAsync(fresh.Target);
        Assert.False(await freshDb.ExistsAsync());
    }

    private static async Task<TestDatabase> CreateNamedAsync(string name)
    {
        await using (var admin = new NpgsqlConnection(TestServers.AdminConnectionString()))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\" TEMPLATE template0", admin);
            await create.ExecuteNonQueryAsync();
        }

        return TestDatabase.Attach(name);
    }
}
