using System.Diagnostics;
using ServerlessBackup.Cli;
using ServerlessBackup.Tests.Infrastructure;

namespace ServerlessBackup.Tests;

public sealed class CliTests
{
    private static Task<(int Exit, string Out, string Err)> SbkAsync(params string[] args) => Sbk.RunAsync(args);

    private static string SbkDll() => Sbk.Dll();

    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public async Task Sbk_serve_stops_cleanly_on_a_termination_signal(string signal)
    {
        using var catalog = await new TestCatalog().WithMasterKeyAsync();
        var config = catalog.WriteConfig();
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { SbkDll(), "serve", "--urls", $"http://127.0.0.1:{port}", "--config", config })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        using var http = new HttpClient();
        // Up once it answers its health route at all: 200, or 503 while a store read fails (what this test checks is the signal).
        var up = false;
        var last = "(no answer)";
        for (var i = 0; i < 150 && !up && !process.HasExited; i++)
        {
            try
            {
                var status = (await http.GetAsync($"http://127.0.0.1:{port}/api/health")).StatusCode;
                last = status.ToString();
                up = status is System.Net.HttpStatusCode.OK or System.Net.HttpStatusCode.ServiceUnavailable;
            }
            catch (HttpRequestException)
            {
            }

            if (!up)
            {
                await Task.Delay(100);
            }
        }

        Assert.True(up, $"sbk serve did not answer (last: {last}): " + (process.HasExited ? await errors : "(still starting)"));
        using (var kill = Process.Start("kill", ["-" + signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, process.ExitCode);
    }

    /// <summary>Runs sbk with the test's config, keeping every output for the leak checks.</summary>
    private static Func<string[], Task<(int Exit, string Out, string Err)>> Runner(string config, List<string> outputs) => async args =>
    {
        var result = await SbkAsync([.. args, "--config", config, "--verbose"]);
        outputs.Add(result.Out + result.Err);
        return result;
    };

    [Fact]
    public async Task Backup_list_show_and_decrypt_work_from_the_command_line_and_never_print_a_secret()
    {
        using var catalog = new TestCatalog();
        await using var source = await TestDatabase.CreateAsync("src");
        await source.ExecuteAsync(Fixture.Schema);
        await catalog.AddDatabaseAsync("shop", source.ConnectionUri);
        var config = catalog.WriteConfig();
        var outputs = new List<string>();
        var run = Runner(config, outputs);
        Task<(int Exit, string Out, string Err)> Run(params string[] args) => run(args);

        var noKey = await Run("backup", "shop");
        Assert.Equal(ExitCodes.Configuration, noKey.Exit);
        Assert.Contains("sbk keys init", noKey.Err, StringComparison.Ordinal);

        Assert.Equal(0, (await Run("keys", "init")).Exit);
        var backup = await Run("backup", "shop", "--label", "nightly");
        Assert.True(backup.Exit == 0, backup.Err);
        var list = await Run("list", "shop", "--json");
        Assert.Equal(0, list.Exit);
        Assert.Contains("\"label\": \"nightly\"", list.Out, StringComparison.Ordinal);
        var show = await Run("show", "shop", "latest", "--json");
        Assert.Equal(0, show.Exit);
        Assert.Contains("\"rows\": 3000", show.Out, StringComparison.Ordinal);
        var dump = Path.Combine(catalog.Directory, "cli.dump");
        Assert.Equal(0, (await Run("decrypt", "shop", "latest", "--out", dump)).Exit);
        Assert.True(File.Exists(dump));

        Assert.Equal(ExitCodes.NotFound, (await Run("backup", "nosuch")).Exit);
        Assert.Equal(ExitCodes.NotFound, (await Run("show", "shop", "20200101T000000Z-aaaaaa")).Exit);
        Assert.Equal(ExitCodes.Usage, (await Run("backup")).Exit);
        Assert.Equal(ExitCodes.Usage, (await Run("decrypt", "shop", "latest")).Exit);

        // A wrong password in the catalog: the failure output must not carry either password.
        await catalog.Secrets.SetSecretAsync("shop-db", TestServers.ConnectionUri(source.Name, "Wr0ng+Canary/Pw-9931"));
        var refused = await Run("backup", "shop");
        Assert.Equal(ExitCodes.Configuration, refused.Exit);

        foreach (var text in outputs)
        {
            Assert.DoesNotContain(TestServers.Password, text, StringComparison.Ordinal);
            Assert.DoesNotContain(Uri.EscapeDataString(TestServers.Password), text, StringComparison.Ordinal);
            Assert.DoesNotContain("Wr0ng+Canary", text, StringComparison.Ordinal);
            Assert.DoesNotContain("Wr0ng%2BCanary", text, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", text, StringComparison.Ordinal); // no stack traces
        }
    }

    [Fact]
    public async Task Restore_verify_and_scratch_work_from_the_command_line_and_never_print_a_secret()
    {
        using var catalog = await new TestCatalog().WithMasterKeyAsync();
        await catalog.WithScratchAsync();
        await using var source = await TestDatabase.CreateAsync("src");
        await source.ExecuteAsync(Fixture.Schema);
        await catalog.AddDatabaseAsync("shop", source.ConnectionUri);
        var config = catalog.WriteConfig();
        var outputs = new List<string>();
        var run = Runner(config, outputs);
        Task<(int Exit, string Out, string Err)> Run(params string[] args) => run(args);

        Assert.Equal(0, (await Run("backup", "shop")).Exit);
        var restore = await Run("restore", "shop", "latest", "--json");
        Assert.True(restore.Exit == 0, restore.Err);
        var scratchName = System.Text.Json.JsonDocument.Parse(restore.Out).RootElement.GetProperty("target").GetString()!;
        await using var scratch = TestDatabase.Attach(scratchName);
        Assert.Equal(await source.FingerprintAsync(), await scratch.FingerprintAsync());
        var scratchList = await Run("scratch", "list");
        Assert.Contains(scratchName, scratchList.Out, StringComparison.Ordinal);

        var verify = await Run("verify", "shop", "--level", "census");
        Assert.True(verify.Exit == 0, verify.Out + verify.Err);
        Assert.Contains("PASSED", verify.Out, StringComparison.Ordinal);
        var list = await Run("list", "shop");
        Assert.Contains("census", list.Out, StringComparison.Ordinal);

        var refused = await Run("restore", "shop", "--target", "shop");
        Assert.Equal(ExitCodes.Configuration, refused.Exit);
        Assert.Contains("--confirm shop", refused.Err, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Usage, (await Run("restore", "shop", "--jobs", "0")).Exit);
        Assert.Equal(ExitCodes.Usage, (await Run("verify", "shop", "--level", "everything")).Exit);
        Assert.Equal(ExitCodes.NotFound, (await Run("scratch", "drop", "postgres")).Exit);
        Assert.Equal(0, (await Run("scratch", "drop", scratchName)).Exit);
        Assert.False(await scratch.ExistsAsync());
        Assert.Equal(0, (await Run("scratch", "sweep", "--dry-run")).Exit);

        // A wrong scratch password: the failure must name the server, not either password.
        await catalog.Secrets.SetSecretAsync("scratch-admin", TestServers.ConnectionUri("postgres", "Wr0ng+Canary/Pw-9931"));
        var denied = await Run("verify", "shop");
        Assert.Equal(ExitCodes.Configuration, denied.Exit);

        foreach (var text in outputs.Concat(Directory.EnumerateFiles(Path.Combine(catalog.Directory, "store"), "*", SearchOption.AllDirectories).Select(File.ReadAllText)))
        {
            Assert.DoesNotContain(TestServers.Password, text, StringComparison.Ordinal);
            Assert.DoesNotContain(Uri.EscapeDataString(TestServers.Password), text, StringComparison.Ordinal);
            Assert.DoesNotContain("Wr0ng+Canary", text, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Keys_rotate_run_due_status_prune_and_hold_work_from_the_command_line()
    {
        using var catalog = await new TestCatalog().WithMasterKeyAsync();
        await using var source = await TestDatabase.CreateAsync("src");
        await source.ExecuteAsync("CREATE TABLE t AS SELECT g FROM generate_series(1, 100) g");
        await catalog.AddDatabaseAsync("shop", source.ConnectionUri);
        var config = catalog.WriteConfig();
        var outputs = new List<string>();
        var run = Runner(config, outputs);

        var late = await run(["status"]);
        Assert.Equal(ExitCodes.Failed, late.Exit);
        Assert.Contains("LATE", late.Out, StringComparison.Ordinal);
        var due = await run(["run-due", "--json"]);
        Assert.Equal(0, due.Exit);
        Assert.Contains("\"outcome\": \"not-due\"", due.Out, StringComparison.Ordinal); // no schedule: manual only
        Assert.Equal(0, (await run(["backup", "shop"])).Exit);
        var rotate = await run(["keys", "rotate"]);
        Assert.True(rotate.Exit == 0, rotate.Err);
        Assert.Contains("Rotated the master key", rotate.Out, StringComparison.Ordinal);
        Assert.Equal(0, (await run(["backup", "shop", "--label", "pre-migration"])).Exit);
        var ok = await run(["status", "--json"]);
        Assert.Equal(0, ok.Exit);
        Assert.Contains("\"state\": \"Ok\"", ok.Out, StringComparison.Ordinal);
        foreach (var id in (await catalog.Engine(catalog.NewFileStore()).ListAsync("shop")).Select(b => b.BackupId))
        {
            Assert.Equal(0, (await run(["decrypt", "shop", id, "--out", Path.Combine(catalog.Directory, id + ".dump")])).Exit);
        }

        Assert.Equal(0, (await run(["hold", "shop", "latest"])).Exit);
        var prune = await run(["prune", "--dry-run"]);
        Assert.Equal(0, prune.Exit);
        Assert.Contains("no retention rules: everything is kept", prune.Out, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.NotFound, (await run(["hold", "shop", "20200101T000000Z-aaaaaa"])).Exit);
        Assert.Equal(ExitCodes.Usage, (await run(["run-due", "--max-parallel", "0"])).Exit);
    }

    [Fact]
    public async Task A_drill_from_the_command_line_exits_non_zero_when_a_database_fails_and_its_reports_can_be_shown()
    {
        using var catalog = await new TestCatalog().WithMasterKeyAsync();
        await catalog.WithScratchAsync();
        await using var source = await TestDatabase.CreateAsync("src");
        await source.ExecuteAsync(Fixture.Schema);
        await catalog.AddDatabaseAsync("shop", source.ConnectionUri);
        var config = catalog.WriteConfig();
        var run = Runner(config, []);
        Assert.Equal(0, (await run(["backup", "shop"])).Exit);

        var passed = await run(["drill", "--max-parallel", "1", "--deadline", "30m"]);
        Assert.True(passed.Exit == 0, passed.Out + passed.Err);
        Assert.Contains("1 of 1 passed", passed.Out, StringComparison.Ordinal);
        Assert.Contains("shop: restoring", passed.Err, StringComparison.Ordinal);

        var manifest = (await catalog.Engine(catalog.NewFileStore()).ListAsync("shop"))[0];
        var archive = Path.Combine(catalog.Directory, "store", "shop", manifest.BackupId, "archive");
        var bytes = File.ReadAllBytes(archive);
        bytes[^100] ^= 0x01;
        File.WriteAllBytes(archive, bytes);
        var failed = await run(["drill", "--json"]);
        Assert.Equal(ExitCodes.Failed, failed.Exit);
        var drillId = System.Text.Json.JsonDocument.Parse(failed.Out).RootElement.GetProperty("drillId").GetString()!;

        var list = await run(["drill", "list"]);
        Assert.Contains(drillId, list.Out, StringComparison.Ordinal);
        var html = await run(["drill", "show", drillId, "--format", "html"]);
        Assert.StartsWith("<!DOCTYPE html>", html.Out, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.NotFound, (await run(["drill", "show", "drill-nope"])).Exit);
        Assert.Equal(ExitCodes.Usage, (await run(["drill", "--deadline", "soon"])).Exit);
        Assert.DoesNotContain(await catalog.Restores(catalog.Engine(catalog.NewFileStore())).ListScratchAsync(), s => s.BackupId == manifest.BackupId);
    }

    [Theory]
    [InlineData("--jobs must be a whole number from 1 to 64, not 'abc'", "restore", "shop", "--jobs", "abc")]
    [InlineData("--jobs must be a whole number from 1 to 64, not '0'", "restore", "shop", "-j", "0")]
    [InlineData("--jobs must be a whole number from 1 to 64, not '1.5'", "verify", "shop", "--jobs", "1.5")]
    [InlineData("--max-parallel must be a whole number from 1 to 32, not 'x'", "run-due", "--max-parallel", "x")]
    [InlineData("--level must be census or assertions, not 'foo'", "drill", "--level", "foo")]
    [InlineData("--level must be census or assertions, not 'restore'", "drill", "--level", "restore")]
    [InlineData("--level must be archive, restore, census or assertions, not '9'", "verify", "shop", "--level", "9")]
    [InlineData("--deadline takes a duration such as 4h", "drill", "--deadline", "99999999999h")]
    public async Task A_value_that_is_not_a_number_or_a_level_is_a_usage_error_that_says_what_is_wanted(string message, params string[] args)
    {
        var result = await SbkAsync(args);

        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.Contains(message, result.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", result.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tampered_backup_exits_with_the_integrity_code()
    {
        using var catalog = await new TestCatalog().WithMasterKeyAsync();
        await using var source = await TestDatabase.CreateAsync("src");
        await source.ExecuteAsync("CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g");
        await catalog.AddDatabaseAsync("shop", source.ConnectionUri);
        var manifest = await catalog.Engine(catalog.NewFileStore()).BackupAsync("shop");
        var archive = Path.Combine(catalog.Directory, "store", "shop", manifest.BackupId, "archive");
        var bytes = File.ReadAllBytes(archive);
        bytes[^3] ^= 0x40;
        File.WriteAllBytes(archive, bytes);
        var config = catalog.WriteConfig();
        var result = await SbkAsync("decrypt", "shop", manifest.BackupId, "--out", Path.Combine(catalog.Directory, "x.dump"), "--config", config);
        Assert.Equal(ExitCodes.Integrity, result.Exit);
        Assert.Contains("does not authenticate", result.Err, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(catalog.Directory, "x.dump")));
        var verify = await SbkAsync("verify", "shop", manifest.BackupId, "--level", "archive", "--config", config);
        Assert.Equal(ExitCodes.Integrity, verify.Exit);
        Assert.Contains("FAILED", verify.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_backup_killed_mid_upload_leaves_no_manifest_and_earlier_backups_still_decrypt()
    {
        using var catalog = await new TestCatalog().WithMasterKeyAsync();
        await using var source = await TestDatabase.CreateAsync("src");
        await source.ExecuteAsync("CREATE TABLE small AS SELECT g FROM generate_series(1, 100) g");
        await catalog.AddDatabaseAsync("shop", source.ConnectionUri);
        var engine = catalog.Engine(catalog.NewFileStore());
        var earlier = await engine.BackupAsync("shop");
        // Enough incompressible data that the upload is still running when we kill it.
        await source.ExecuteAsync("CREATE TABLE big AS SELECT g, decode(string_agg(md5(g::text || x::text), ''), 'hex') AS blob FROM generate_series(1, 20000) g, generate_series(1, 200) x GROUP BY g");
        var config = catalog.WriteConfig();

        var sbk = SbkDll();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { sbk, "backup", "shop", "--config", config })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var storeDir = Path.Combine(catalog.Directory, "store", "shop");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        string? partial = null;
        while (partial is null && DateTime.UtcNow < deadline && !process.HasExited)
        {
            partial = Directory.GetFiles(storeDir, "archive.partial-*", SearchOption.AllDirectories).FirstOrDefault(f => new FileInfo(f).Length > 1024 * 1024);
            await Task.Delay(20);
        }

        Assert.True(partial is not null, process.HasExited
            ? $"sbk exited ({process.ExitCode}) before its upload was under way: {await process.StandardError.ReadToEndAsync()}"
            : "no partial archive of more than 1 MiB appeared within 60 s");
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();

        var listed = await engine.ListAsync("shop");
        Assert.Equal(earlier.BackupId, Assert.Single(listed).BackupId);
        var output = Path.Combine(catalog.Directory, "earlier.dump");
        await engine.DecryptAsync("shop", earlier.BackupId, output);
        Assert.True(new FileInfo(output).Length > 0);
        // The lock died with the process: the next backup runs at once.
        var next = await engine.BackupAsync("shop");
        Assert.Equal(2, (await engine.ListAsync("shop")).Count);
        Assert.NotEqual(earlier.BackupId, next.BackupId);
    }

    /// <summary>A table whose rows each take 30 ms to load into a database sbk made (sbk_…), so a restore is still in pg_restore when the test signals it; the source itself loads at full speed.</summary>
    private const string SlowTable = """
        CREATE FUNCTION slow_ok(int) RETURNS boolean LANGUAGE sql AS $$ SELECT CASE WHEN current_database() LIKE 'sbk\_%' THEN pg_sleep(0.03) IS NOT NULL ELSE true END $$;
        CREATE TABLE slow (id int CHECK (slow_ok(id)));
        INSERT INTO slow SELECT g FROM generate_series(1, 400) g;
        """;

    private static Process StartSbk(params string[] args) => Sbk.Start(null, null, args);

    /// <summary>Waits until pg_restore is loading the slow table into a database sbk made.</summary>
    private static async Task WaitForSlowCopyAsync(Process process, Task<string> errors)
    {
        await using var admin = new Npgsql.NpgsqlConnection(TestServers.AdminConnectionString());
        await admin.OpenAsync();
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            await using var command = new Npgsql.NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE datname LIKE 'sbk\\_%' AND query LIKE 'COPY public.slow%'", admin);
            if ((long)(await command.ExecuteScalarAsync())! > 0)
            {
                return;
            }

            await Task.Delay(50);
        }

        Assert.Fail(process.HasExited ? $"sbk exited ({process.ExitCode}) before pg_restore loaded the slow table: {await errors}" : "pg_restore did not start loading the slow table within 90 s");
    }

    private static async Task SignalAsync(Process process, string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync();
    }

    /// <summary>Databases sbk made on the test server for this test: beside <paramref name="source"/> or holding a copy of its backups (other tests run alongside).</summary>
    private static async Task<List<string>> SbkDatabasesAsync(TestDatabase source, string backupId)
    {
        var id = backupId.Replace("T", string.Empty, StringComparison.Ordinal).Replace("Z-", string.Empty, StringComparison.Ordinal).ToLowerInvariant();
        await using var admin = new Npgsql.NpgsqlConnection(TestServers.AdminConnectionString());
        await admin.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT datname FROM pg_database WHERE datname LIKE 'sbk\\_%'", admin);
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            names.Add(reader.GetString(0));
        }

        return names.Where(n => n.Contains(source.Name, StringComparison.Ordinal) || n.Contains(id, StringComparison.Ordinal)).ToList();
    }

    [Theory]
    [InlineData("INT", "scratch")]
    [InlineData("TERM", "scratch")]
    [InlineData("TERM", "jobs")]
    [InlineData("INT", "real")]
    [InlineData("TERM", "real")]
    [InlineData("INT", "scratch", true)]
    [InlineData("TERM", "jobs", true)]
    public async Task A_restore_stopped_by_a_signal_undoes_what_it_started_says_what_and_exits_130(string signal, string kind, bool native = false)
    {
        using var catalog = await new TestCatalog().WithMasterKeyAsync();
        await catalog.WithScratchAsync();
        var temp = Path.Combine(catalog.Directory, "tmp");
        Directory.CreateDirectory(temp);
        catalog.Options.Scratch.TempDirectory = temp;
        await using var source = await TestDatabase.CreateAsync("src");
        await source.ExecuteAsync(SlowTable);
        await catalog.AddDatabaseAsync("shop", source.ConnectionUri);
        var engine = catalog.Engine(catalog.NewFileStore());
        var backup = await engine.BackupAsync("shop");
        var before = await source.FingerprintAsync();
        var config = catalog.WriteConfig();
        string[] args = kind switch
        {
            "scratch" => ["restore", "shop", "--config", config],
            "jobs" => ["restore", "shop", "--jobs", "2", "--config", config],
            _ => ["restore", "shop", "--target", "shop", "--confirm", "shop", "--config", config],
        };

        // The published native executable too: its signal handling is the runtime's own, compiled in.
        using var process = native ? NativeSbk.Start(await NativeSbk.PathAsync(), catalog.Directory, args) : StartSbk(args);
        var errors = process.StandardError.ReadToEndAsync();
        await WaitForSlowCopyAsync(process, errors);
        await SignalAsync(process, signal);
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        var said = await errors;
        Assert.True(process.ExitCode == 130, $"exit {process.ExitCode}: {said}");
        Assert.Contains("cancelled.", said, StringComparison.Ordinal);
        Assert.Contains(kind == "real" ? "'shop' was left as it was" : "was dropped", said, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", said, StringComparison.Ordinal);
        // Nothing half-made is left: no new database, no temporary file, the source unchanged and unlocked.
        Assert.Empty(await SbkDatabasesAsync(source, backup.BackupId));
        Assert.Empty(Directory.GetFileSystemEntries(temp));
        Assert.Equal(before, await source.FingerprintAsync());
        var listed = await engine.ListAsync("shop");
        Assert.Contains(listed, b => b.BackupId == backup.BackupId);
        await engine.BackupAsync("shop");
    }

    [Fact]
    public async Task A_restore_killed_outright_leaves_the_real_database_as_it_was_and_the_sweep_clears_what_it_left()
    {
        using var catalog = await new TestCatalog().WithMasterKeyAsync();
        await catalog.WithScratchAsync();
        var temp = Path.Combine(catalog.Directory, "tmp");
        Directory.CreateDirectory(temp);
        catalog.Options.Scratch.TempDirectory = temp;
        await using var source = await TestDatabase.CreateAsync("src");
        await source.ExecuteAsync(SlowTable + "CREATE TABLE small (id int); INSERT INTO small VALUES (1), (2);");
        await catalog.AddDatabaseAsync("shop", source.ConnectionUri);
        var engine = catalog.Engine(catalog.NewFileStore());
        var backup = await engine.BackupAsync("shop");
        var before = await source.FingerprintAsync();
        var config = catalog.WriteConfig();

        using var process = StartSbk("restore", "shop", "--target", "shop", "--confirm", "shop", "--config", config);
        var errors = process.StandardError.ReadToEndAsync();
        await WaitForSlowCopyAsync(process, errors);
        process.Kill();
        await process.WaitForExitAsync();

        Assert.Equal(before, await source.FingerprintAsync());
        var left = await SbkDatabasesAsync(source, backup.BackupId);
        Assert.Contains(left, name => name.StartsWith("sbk_in_", StringComparison.Ordinal));
        Assert.NotEmpty(Directory.GetFileSystemEntries(temp));

        var sweep = await SbkAsync("previous", "sweep", "--config", config);

        Assert.True(sweep.Exit == 0, sweep.Err);
        Assert.Contains("sbk_in_", sweep.Out, StringComparison.Ordinal);
        Assert.Empty(await SbkDatabasesAsync(source, backup.BackupId));
        // The killed process's temporary directory (with its decrypted archive) goes with the next restore that needs one.
        var next = await SbkAsync("restore", "shop", "--table", "small", "--config", config);
        Assert.True(next.Exit == 0, next.Err);
        Assert.Empty(Directory.GetFileSystemEntries(temp));
        foreach (var name in await SbkDatabasesAsync(source, backup.BackupId))
        {
            await TestDatabase.Attach(name).DisposeAsync();
        }
    }
}
