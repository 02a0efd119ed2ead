using Npgsql;
using ServerlessBackup.Backups;
using ServerlessBackup.Catalog;
using ServerlessBackup.Errors;
using ServerlessBackup.Storage;
using ServerlessBackup.Tests.Infrastructure;

namespace ServerlessBackup.Tests;

public sealed class BackupTests
{
    private static async Task<(TestCatalog Catalog, TestDatabase Source)> FixtureAsync(CompressionMode compression = CompressionMode.Parallel)
    {
        var catalog = await new TestCatalog().WithMasterKeyAsync();
        catalog.Options.Dump.Compression = compression;
        catalog.Options.Dump.ChunkSizeKiB = 64; // many chunks even for a small database
        var source = await TestDatabase.CreateAsync("src");
        await source.ExecuteAsync(Fixture.Schema);
        await catalog.AddDatabaseAsync("shop", source.ConnectionUri);
        return (catalog, source);
    }

    private static async Task AssertRestoresIdenticallyAsync(BackupEngine engine, TestCatalog catalog, TestDatabase source, string backupId)
    {
        var archive = Path.Combine(catalog.Directory, "restored.dump");
        var result = await engine.DecryptAsync("shop", backupId, archive);
        Assert.True(result.ManifestChecked);
        // The plaintext dump is readable by its owner only.
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(archive));
        }
        await using var copy = await TestDatabase.CreateAsync("copy");
        var (exit, errors) = await PgTools.RestoreAsync(archive, copy);
        Assert.True(exit == 0, errors);
        Assert.Equal(await source.FingerprintAsync(), await copy.FingerprintAsync());
    }

    [Theory]
    [InlineData(CompressionMode.Zstd)]
    [InlineData(CompressionMode.Parallel)]
    [InlineData(CompressionMode.PgDump)]
    [InlineData(CompressionMode.None)]
    public async Task A_backup_to_the_file_store_restores_every_row_and_sequence(CompressionMode compression)
    {
        var (catalog, source) = await FixtureAsync(compression);
        using var _ = catalog;
        await using var __ = source;
        var engine = catalog.Engine(catalog.NewFileStore());

        var manifest = await engine.BackupAsync("shop", "pre-migration");

        Assert.Equal("pre-migration", manifest.Label);
        Assert.True(manifest.SnapshotShared);
        await AssertRestoresIdenticallyAsync(engine, catalog, source, manifest.BackupId);
    }

    [Fact]
    public async Task A_backup_to_Azurite_restores_every_row_and_records_the_census_of_its_snapshot()
    {
        var (catalog, source) = await FixtureAsync();
        using var _ = catalog;
        await using var __ = source;
        var engine = catalog.Engine(TestServers.NewAzuriteStore(new AzureBlobStoreOptions { BlockSize = 1024 * 1024 }));

        var manifest = await engine.BackupAsync("shop");

        var listed = Assert.Single(await engine.ListAsync("shop"));
        Assert.Equal(manifest.BackupId, listed.BackupId);
        var details = await engine.ShowAsync("shop", "latest");
        var census = details.Private.Census.Tables.ToDictionary(t => $"{t.Schema}.{t.Name}", t => t.Rows);
        Assert.Equal(500, census["Billing.Customer Accounts"]);
        Assert.Equal(3000, census["Billing.invoices"]);
        Assert.Equal(0, census["public.empty_table"]);
        Assert.Contains(details.Private.Census.Sequences, s => s.Name == "standalone_seq" && s.LastValue == 4242 && s.IsCalled);
        await AssertRestoresIdenticallyAsync(engine, catalog, source, "latest");
    }

    [Fact]
    public async Task An_edited_manifest_is_detected()
    {
        var (catalog, source) = await FixtureAsync();
        using var _ = catalog;
        await using var __ = source;
        var store = catalog.NewFileStore();
        var engine = catalog.Engine(store);
        var manifest = await engine.BackupAsync("shop");
        var path = Path.Combine(catalog.Directory, "store", "shop", manifest.BackupId, "manifest.json");
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"label\": null", "\"label\": \"hidden\"", StringComparison.Ordinal));

        var ex = await Assert.ThrowsAsync<IntegrityException>(() => engine.ShowAsync("shop", manifest.BackupId));
        Assert.Contains("does not authenticate", ex.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(catalog.Directory, "out.dump")));
        await Assert.ThrowsAsync<IntegrityException>(() => engine.DecryptAsync("shop", manifest.BackupId, Path.Combine(catalog.Directory, "out.dump")));
        Assert.False(File.Exists(Path.Combine(catalog.Directory, "out.dump")));
    }

    [Fact]
    public async Task A_tampered_stored_archive_fails_to_decrypt_and_leaves_no_output_file()
    {
        var (catalog, source) = await FixtureAsync();
        using var _ = catalog;
        await using var __ = source;
        var engine = catalog.Engine(catalog.NewFileStore());
        var manifest = await engine.BackupAsync("shop");
        var archive = Path.Combine(catalog.Directory, "store", "shop", manifest.BackupId, "archive");
        var bytes = File.ReadAllBytes(archive);
        bytes[bytes.Length / 2] ^= 0x01;
        File.WriteAllBytes(archive, bytes);
        var output = Path.Combine(catalog.Directory, "out.dump");

        await Assert.ThrowsAsync<IntegrityException>(() => engine.DecryptAsync("shop", manifest.BackupId, output));
        await Assert.ThrowsAsync<IntegrityException>(() => engine.DecryptArchiveFileAsync(archive, output));

        Assert.False(File.Exists(output));
        Assert.Empty(Directory.GetFiles(catalog.Directory, "*.partial-*"));
    }

    [Fact]
    public async Task Decrypting_to_a_directory_or_where_nothing_may_be_written_is_refused_before_anything_is_read_and_says_so()
    {
        var (catalog, source) = await FixtureAsync();
        using var _ = catalog;
        await using var __ = source;
        var engine = catalog.Engine(catalog.NewFileStore());
        var manifest = await engine.BackupAsync("shop");
        var directory = Directory.CreateDirectory(Path.Combine(catalog.Directory, "out")).FullName;

        var intoDirectory = await Assert.ThrowsAsync<SbkException>(() => engine.DecryptAsync("shop", manifest.BackupId, directory));
        Assert.Equal(SbkErrorKind.Configuration, intoDirectory.Kind);
        Assert.Contains($"The output {directory} is a directory; give the path of the file to write, e.g. {Path.Combine(directory, "backup.dump")}", intoDirectory.Message, StringComparison.Ordinal);

        // A file where a directory should be: nothing can be created below it, whoever runs the test.
        var blocker = Path.Combine(catalog.Directory, "plain-file");
        await File.WriteAllTextAsync(blocker, "x");
        var output = Path.Combine(blocker, "x.dump");
        var cannot = await Assert.ThrowsAsync<SbkException>(() => engine.DecryptAsync("shop", manifest.BackupId, output));
        Assert.Contains("does not exist", cannot.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(directory));
        Assert.Empty(Directory.GetFiles(catalog.Directory, "*.partial-*"));
    }

    [Fact]
    public async Task The_emergency_path_decrypts_a_lone_archive_file_with_only_the_key()
    {
        var (catalog, source) = await FixtureAsync();
        using var _ = catalog;
        await using var __ = source;
        var manifest = await catalog.Engine(catalog.NewFileStore()).BackupAsync("shop");
        var archive = Path.Combine(catalog.Directory, "store", "shop", manifest.BackupId, "archive");

        // A different engine: no databases, an empty store; only the secret store with the key.
        var bare = new BackupEngine(new SbkOptions(), new FileSystemObjectStore(Path.Combine(catalog.Directory, "empty")), catalog.Secrets);
        var output = Path.Combine(catalog.Directory, "emergency.dump");
        var result = await bare.DecryptArchiveFileAsync(archive, output);

        Assert.Equal(manifest.BackupId, result.BackupId);
        await using var copy = await TestDatabase.CreateAsync("copy");
        var (exit, errors) = await PgTools.RestoreAsync(output, copy);
        Assert.True(exit == 0, errors);
        Assert.Equal(await source.FingerprintAsync(), await copy.FingerprintAsync());
    }

    [Fact]
    public async Task A_missing_master_key_fails_before_anything_is_written()
    {
        using var catalog = new TestCatalog();
        await using var source = await TestDatabase.CreateAsync("src");
        await catalog.AddDatabaseAsync("shop", source.ConnectionUri);
        var ex = await Assert.ThrowsAsync<SbkException>(() => catalog.Engine(catalog.NewFileStore()).BackupAsync("shop"));
        Assert.Equal(SbkErrorKind.Configuration, ex.Kind);
        Assert.Contains("sbk keys init", ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(catalog.Directory, "store")));
    }

    /// <summary>A backup refused in preflight uploads nothing; the store holds only the record of the failed attempt (status says FAILING).</summary>
    private static void AssertOnlyTheFailedAttemptWasStored(TestCatalog catalog, string database)
    {
        var store = Path.Combine(catalog.Directory, "store");
        var files = Directory.Exists(store) ? Directory.GetFiles(store, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(store, f)).ToList() : [];
        Assert.Equal([Path.Combine(database, "last-attempt.json")], files);
    }

    [Fact]
    public async Task A_missing_connection_secret_names_the_database_and_the_secret()
    {
        using var catalog = await new TestCatalog().WithMasterKeyAsync();
        catalog.Options.Databases["shop"] = new DatabaseOptions { ConnectionStringSecret = "nowhere" };
        var ex = await Assert.ThrowsAsync<SbkException>(() => catalog.Engine(catalog.NewFileStore()).BackupAsync("shop"));
        Assert.Contains("'shop'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'nowhere'", ex.Message, StringComparison.Ordinal);
        AssertOnlyTheFailedAttemptWasStored(catalog, "shop");
    }

    public static TheoryData<string> DumpFailures => new() { "wrong-password", "unreachable", "unknown-database", "lock-timeout" };

    [Theory]
    [MemberData(nameof(DumpFailures))]
    public async Task A_failing_source_ends_with_a_clear_message_naming_the_database_and_no_manifest(string failure)
    {
        using var catalog = await new TestCatalog().WithMasterKeyAsync();
        catalog.Options.Dump.LockWaitTimeoutSeconds = 1;
        await using var source = await TestDatabase.CreateAsync("src");
        await source.ExecuteAsync(Fixture.Schema);
        const string WrongPassword = "Wr0ng+Canary/Pw-9931";
        var uri = failure switch
        {
            "wrong-password" => TestServers.ConnectionUri(source.Name, WrongPassword),
            "unreachable" => $"postgres://postgres:x@127.0.0.1:1/{source.Name}?sslmode=disable&connect_timeout=3",
            "unknown-database" => TestServers.ConnectionUri("no_such_database"),
            _ => source.ConnectionUri,
        };
        await catalog.AddDatabaseAsync("shop", uri);
        var store = catalog.NewFileStore();

        // The lock case: another session holds an exclusive lock on a table for the whole backup.
        await using var locker = new NpgsqlConnection(source.ConnectionString);
        if (failure == "lock-timeout")
        {
            await locker.OpenAsync();
            await using var lockCommand = new NpgsqlCommand("BEGIN; LOCK TABLE \"Billing\".invoices IN ACCESS EXCLUSIVE MODE", locker);
            await lockCommand.ExecuteNonQueryAsync();
        }

        var ex = await Assert.ThrowsAsync<SbkException>(() => catalog.Engine(store).BackupAsync("shop"));

        Assert.Contains("'shop'", ex.Message, StringComparison.Ordinal);
        var expected = failure switch
        {
            "wrong-password" => "refused the credentials",
            "unreachable" => "Cannot reach",
            "unknown-database" => "no database named 'no_such_database'",
            _ => "lock",
        };
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(WrongPassword, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(TestServers.Password, ex.Message, StringComparison.Ordinal);
        Assert.Empty(await catalog.Engine(store).ListAsync("shop"));
        var files = Directory.Exists(Path.Combine(catalog.Directory, "store"))
            ? Directory.GetFiles(Path.Combine(catalog.Directory, "store"), "*", SearchOption.AllDirectories)
            : [];
        Assert.DoesNotContain(files, f => f.EndsWith("manifest.json", StringComparison.Ordinal) || f.EndsWith("archive", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_server_newer_than_pg_dump_is_refused_with_the_client_version_to_install()
    {
        using var catalog = await new TestCatalog().WithMasterKeyAsync();
        await using var source = await TestDatabase.CreateAsync("src", TestServers.Pg17Port);
        await catalog.AddDatabaseAsync("new", source.ConnectionUri);
        var ex = await Assert.ThrowsAsync<SbkException>(() => catalog.Engine(catalog.NewFileStore()).BackupAsync("new"));
        Assert.Equal(SbkErrorKind.Configuration, ex.Kind);
        Assert.Contains("PostgreSQL 17", ex.Message, StringComparison.Ordinal);
        Assert.Contains("postgresql-client-17", ex.Message, StringComparison.Ordinal);
        AssertOnlyTheFailedAttemptWasStored(catalog, "new");
    }

    [Fact]
    public async Task A_second_backup_of_the_same_database_is_refused_while_one_runs()
    {
        var (catalog, source) = await FixtureAsync();
        using var _ = catalog;
        await using var __ = source;
        var store = TestServers.NewAzuriteStore();
        await store.EnsureCreatedAsync();
        await using (var held = await store.TryAcquireLockAsync(BackupLayout.Lock("shop")))
        {
            Assert.NotNull(held);
            var ex = await Assert.ThrowsAsync<SbkException>(() => catalog.Engine(store).BackupAsync("shop"));
            Assert.Equal(SbkErrorKind.AlreadyRunning, ex.Kind);
            Assert.Contains("A backup, restore or swap of database 'shop' is already running", ex.Message, StringComparison.Ordinal);
        }

        // Released: the next one runs.
        await catalog.Engine(store).BackupAsync("shop");
        Assert.Single(await catalog.Engine(store).ListAsync("shop"));
    }

    [Fact]
    public async Task Nothing_secret_reaches_the_store_or_its_metadata()
    {
        var (catalog, source) = await FixtureAsync();
        using var _ = catalog;
        await using var __ = source;
        var store = catalog.NewFileStore();
        var manifest = await catalog.Engine(store).BackupAsync("shop", "canary-check");

        var password = System.Text.Encoding.UTF8.GetBytes(TestServers.Password);
        var escaped = System.Text.Encoding.UTF8.GetBytes(Uri.EscapeDataString(TestServers.Password));
        var masterKey = System.Text.Encoding.UTF8.GetBytes((await catalog.Secrets.GetSecretAsync(catalog.Options.MasterKeySecret)).Reveal());
        foreach (var file in Directory.GetFiles(Path.Combine(catalog.Directory, "store"), "*", SearchOption.AllDirectories))
        {
            var bytes = File.ReadAllBytes(file);
            Assert.Equal(-1, bytes.AsSpan().IndexOf(password));
            Assert.Equal(-1, bytes.AsSpan().IndexOf(escaped));
            Assert.Equal(-1, bytes.AsSpan().IndexOf(masterKey));
            // Data derived from the database (table names) is not in clear anywhere in the store.
            Assert.Equal(-1, bytes.AsSpan().IndexOf("Customer Accounts"u8));
        }

        Assert.Equal("canary-check", manifest.Label);
    }

    [Fact]
    public async Task Unknown_databases_and_bad_labels_are_refused_with_what_to_do()
    {
        using var catalog = await new TestCatalog().WithMasterKeyAsync();
        await catalog.AddDatabaseAsync("shop", "postgres://u:p@127.0.0.1:1/x");
        var engine = catalog.Engine(catalog.NewFileStore());
        var unknown = await Assert.ThrowsAsync<SbkException>(() => engine.BackupAsync("prod"));
        Assert.Equal(SbkErrorKind.NotFound, unknown.Kind);
        Assert.Contains("catalogued: shop", unknown.Message, StringComparison.Ordinal);
        var label = await Assert.ThrowsAsync<SbkException>(() => engine.BackupAsync("shop", "bad label; DROP"));
        Assert.Equal(SbkErrorKind.Configuration, label.Kind);
    }
}
