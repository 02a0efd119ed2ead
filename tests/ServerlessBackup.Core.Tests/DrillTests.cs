using System.Diagnostics;
using System.Text.Json;
using ServerlessBackup.Catalog;
using ServerlessBackup.Drills;
using ServerlessBackup.Notify;
using ServerlessBackup.Restore;
using ServerlessBackup.Tests.Infrastructure;
using ServerlessBackup.Verify;
using ServerlessBackup.Workflows;

namespace ServerlessBackup.Tests;

public sealed class DrillTests
{
    private sealed class Setup : IAsyncDisposable
    {
        public required TestCatalog Catalog { get; init; }

        public required List<TestDatabase> Sources { get; init; }

        public required Backups.BackupEngine Backups { get; init; }

        public required RestoreEngine Restores { get; init; }

        public required Storage.IObjectStore Store { get; init; }

        public required DrillEngine Drills { get; init; }

        public async ValueTask DisposeAsync()
        {
            foreach (var s in Sources)
            {
                await s.DisposeAsync();
            }

            Catalog.Dispose();
        }
    }

    private static async Task<Setup> SetupAsync(params (string Name, string Sql)[] databases)
    {
        var catalog = await new TestCatalog().WithMasterKeyAsync();
        await catalog.WithScratchAsync();
        var sources = new List<TestDatabase>();
        var store = catalog.NewFileStore();
        var backups = catalog.Engine(store);
        foreach (var (name, sql) in databases)
        {
            var source = await TestDatabase.CreateAsync("src");
            sources.Add(source);
            await source.ExecuteAsync(sql);
            await catalog.AddDatabaseAsync(name, source.ConnectionUri);
            await backups.BackupAsync(name);
        }

        var restores = catalog.Restores(backups);
        var drills = catalog.Drills(backups, restores, store);
        return new Setup { Catalog = catalog, Sources = sources, Backups = backups, Restores = restores, Store = store, Drills = drills };
    }

    private static async Task<IReadOnlyList<ScratchDatabase>> ScratchOfAsync(RestoreEngine restores, IEnumerable<string> databases) =>
        (await restores.ListScratchAsync()).Where(s => databases.Contains(s.SourceDatabase)).ToList();

    [Fact]
    public async Task A_drill_over_three_databases_reports_one_pass_and_two_failures_and_cleans_up()
    {
        await using var receiver = await LoopbackServer.StartAsync((context, _) => { context.Response.StatusCode = 200; return Task.CompletedTask; });
        var names = new[] { "good-" + Guid.NewGuid().ToString("N")[..6], "assert-" + Guid.NewGuid().ToString("N")[..6], "broken-" + Guid.NewGuid().ToString("N")[..6] };
        await using var s = await SetupAsync((names[0], Fixture.Schema), (names[1], Fixture.Schema), (names[2], Fixture.Schema));
        s.Catalog.Options.Databases[names[1]].Assertions.Add(new AssertionOptions { Name = "no invoices over 900", Sql = "SELECT id FROM \"Billing\".invoices WHERE amount > 900" });
        // The good one restores with the parallelism a real restore of it would use.
        s.Catalog.Options.Databases[names[0]].RestoreJobs = 2;
        var broken = (await s.Backups.ListAsync(names[2]))[0];
        var archive = Path.Combine(s.Catalog.Directory, "store", names[2], broken.BackupId, "archive");
        var bytes = File.ReadAllBytes(archive);
        bytes[bytes.Length / 2] ^= 0x10;
        File.WriteAllBytes(archive, bytes);
        await s.Catalog.Secrets.SetSecretAsync("hook", new Uri(receiver.BaseUri, "/drill").ToString());
        s.Catalog.Options.Notifications.Targets.Add(new NotificationTargetOptions { UrlSecret = "hook" });
        var statuses = new List<object?>();

        var input = s.Drills.CreateInput(names, maxParallel: 2);
        var (report, history) = await s.Drills.RunAsync(input, statuses.Add);

        var byName = report.Databases.ToDictionary(d => d.Database);
        Assert.True(report.Passed == 1, string.Join(" || ", report.Databases.Select(d => $"{d.Database}: {d.Outcome}: {string.Join(" | ", d.Reasons)}")));
        Assert.False(report.AllPassed);
        Assert.Equal(DrillOutcome.Passed, byName[names[0]].Outcome);
        Assert.Equal(DrillOutcome.Failed, byName[names[1]].Outcome);
        Assert.Contains(byName[names[1]].Reasons, r => r.Contains("no invoices over 900", StringComparison.Ordinal));
        Assert.Equal(DrillOutcome.Failed, byName[names[2]].Outcome);
        Assert.Contains(byName[names[2]].Reasons, r => r.StartsWith(DrillWorkflow.Restore, StringComparison.Ordinal) && r.Contains("authenticate", StringComparison.OrdinalIgnoreCase));
        Assert.Empty(await ScratchOfAsync(s.Restores, names));
        Assert.NotNull(byName[names[0]].ScratchDatabase); // it was restored into one…
        Assert.All(report.Databases.Where(d => d.ScratchDatabase is not null), d => Assert.True(d.ScratchDropped)); // …and every one made was dropped
        Assert.NotEmpty(statuses);

        // Figures are the measured ones: RTO is the restore step plus verification; RPO is from the snapshot time.
        var good = byName[names[0]];
        var manifest = (await s.Backups.ShowAsync(names[0], "latest")).Manifest;
        Assert.Equal(manifest.SnapshotTime, good.SnapshotTime);
        Assert.Equal(Math.Round((report.StartedAt - manifest.SnapshotTime).TotalHours, 3), good.RpoHours);
        Assert.Equal(Math.Round(good.Phases!.RestoreTotal + good.Phases.Verify, 3), good.RtoSeconds);
        Assert.True(good.Phases.Restore > 0 && good.Phases.Restore <= good.Phases.RestoreTotal);
        Assert.Equal(2, good.Phases.Jobs);
        Assert.Equal(3500, good.RowsVerified);
        var verifyCall = history.Scheduled.Single(c => c.Name == DrillWorkflow.Verify && c.Input.Contains(names[0], StringComparison.Ordinal));
        var verifyResult = JsonDocument.Parse(history.Delivered.Single(d => d.Sequence == verifyCall.Sequence).Result!);
        Assert.Equal(good.Phases.Verify, verifyResult.RootElement.GetProperty("seconds").GetDouble());

        // Stored, listed, notified.
        Assert.Contains(await s.Drills.ListAsync(), d => d.DrillId == report.DrillId && d.Passed == 1 && d.Databases == 3);
        Assert.Contains("1 of 3 passed", await s.Drills.ReadAsync(report.DrillId, "md"), StringComparison.Ordinal);
        var note = Assert.Single(receiver.Requests);
        Assert.Contains("drill-report", note.Body, StringComparison.Ordinal);
        await foreach (var stored in s.Store.ListAsync(DrillEngine.Prefix))
        {
            await using var stream = await s.Store.OpenReadAsync(stored.Key);
            var text = await new StreamReader(stream).ReadToEndAsync();
            Assert.DoesNotContain("Billing", text, StringComparison.Ordinal); // the report is sealed
            Assert.DoesNotContain(names[1], text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_deadline_shorter_than_a_restore_times_the_drill_out_and_leaves_no_scratch_database()
    {
        var big = "big-" + Guid.NewGuid().ToString("N")[..6];
        var next = "next-" + Guid.NewGuid().ToString("N")[..6];
        await using var s = await SetupAsync(
            // Rows that take 50 ms each to load into a database sbk made: the restore is still running at the deadline, whatever the machine.
            (big, """
                CREATE FUNCTION slow_ok(int) RETURNS boolean LANGUAGE sql AS $$ SELECT CASE WHEN current_database() LIKE 'sbk\_%' THEN pg_sleep(0.05) IS NOT NULL ELSE true END $$;
                CREATE TABLE events (id int CHECK (slow_ok(id)));
                INSERT INTO events SELECT generate_series(1, 200);
                """),
            (next, "CREATE TABLE t (id int)"));

        var input = s.Drills.CreateInput([big, next], maxParallel: 1, deadline: TimeSpan.FromSeconds(1));
        var (report, _) = await s.Drills.RunAsync(input);

        var first = report.Databases[0];
        Assert.Equal(DrillOutcome.TimedOut, first.Outcome);
        Assert.Contains(first.Reasons, r => r.Contains("deadline", StringComparison.Ordinal));
        Assert.Equal(DrillOutcome.TimedOut, report.Databases[1].Outcome);
        Assert.Contains("before this database started", report.Databases[1].Reasons[0], StringComparison.Ordinal);
        Assert.Empty(await ScratchOfAsync(s.Restores, [big, next]));
        Assert.True(first.ScratchDatabase is null || first.ScratchDropped);
    }

    [Fact]
    public async Task Replaying_a_drill_from_its_history_makes_the_same_calls_and_the_same_report()
    {
        var name = "replay-" + Guid.NewGuid().ToString("N")[..6];
        await using var s = await SetupAsync((name, Fixture.Schema));
        var input = s.Drills.CreateInput([name]);
        var (report, history) = await s.Drills.RunAsync(input);

        var replayed = await InProcessWorkflowRuntime.ReplayAsync(context => DrillWorkflow.RunAsync(context, input), history);

        Assert.Equal(DrillOutcome.Passed, report.Databases[0].Outcome);
        Assert.Equal(JsonSerializer.Serialize(report, InProcessWorkflowRuntime.Json), JsonSerializer.Serialize(replayed, InProcessWorkflowRuntime.Json));
        Assert.Contains(history.Scheduled, c => c.Name == DrillWorkflow.DropScratch);
    }

    private static readonly WorkflowActivities Echo = new WorkflowActivities().Add<JsonElement, string>("echo", (input, _) => Task.FromResult(input.GetRawText()));

    [Fact]
    public async Task The_replay_check_catches_a_workflow_that_uses_a_GUID()
    {
        static async Task<string> Workflow(WorkflowContext context) => await context.CallActivityAsync<string>("echo", Guid.NewGuid().ToString()).ConfigureAwait(true);
        var (_, history) = await InProcessWorkflowRuntime.RunAsync("test", Workflow, Echo);

        await Assert.ThrowsAsync<WorkflowNonDeterminismException>(() => InProcessWorkflowRuntime.ReplayAsync(Workflow, history));
    }

    [Fact]
    public async Task The_replay_check_catches_a_workflow_that_reads_the_clock()
    {
        static async Task<string> Workflow(WorkflowContext context) => await context.CallActivityAsync<string>("echo", Stopwatch.GetTimestamp()).ConfigureAwait(true);
        var (_, history) = await InProcessWorkflowRuntime.RunAsync("test", Workflow, Echo);

        await Assert.ThrowsAsync<WorkflowNonDeterminismException>(() => InProcessWorkflowRuntime.ReplayAsync(Workflow, history));
    }

    [Fact]
    public async Task The_replay_check_catches_a_workflow_that_does_IO_and_passes_one_that_does_not()
    {
        var file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, "1");
        async Task<int> Impure(WorkflowContext context)
        {
            // Decides from a file (I/O in the workflow): a replay may see another value.
            var calls = int.Parse(await File.ReadAllTextAsync(file), System.Globalization.CultureInfo.InvariantCulture);
            for (var i = 0; i < calls; i++)
            {
                await context.CallActivityAsync<string>("echo", i).ConfigureAwait(true);
            }

            return calls;
        }

        static async Task<int> Pure(WorkflowContext context)
        {
            var a = context.CallActivityAsync<string>("echo", "a");
            var b = context.CallActivityAsync<string>("echo", "b");
            await Task.WhenAll(a, b).ConfigureAwait(true);
            await context.CallActivityAsync<string>("echo", context.CurrentUtcDateTime).ConfigureAwait(true);
            return 2;
        }

        var (_, impure) = await InProcessWorkflowRuntime.RunAsync("test", Impure, Echo);
        var (_, pure) = await InProcessWorkflowRuntime.RunAsync("test", Pure, Echo);
        await File.WriteAllTextAsync(file, "2");

        await Assert.ThrowsAsync<WorkflowNonDeterminismException>(() => InProcessWorkflowRuntime.ReplayAsync(Impure, impure));
        Assert.Equal(2, await InProcessWorkflowRuntime.ReplayAsync(Pure, pure));
        File.Delete(file);
    }

    [Fact]
    public async Task The_HTML_report_renders_in_a_headless_browser()
    {
        var chromium = Environment.GetEnvironmentVariable("SBK_TEST_CHROMIUM") ?? "/usr/bin/chromium";
        Assert.True(File.Exists(chromium), $"No Chromium at {chromium}; scripts/test.sh installs it (apt-get install chromium) and sets SBK_TEST_CHROMIUM.");
        var name = "shop-" + Guid.NewGuid().ToString("N")[..6];
        var other = "billing-" + Guid.NewGuid().ToString("N")[..6];
        await using var s = await SetupAsync((name, Fixture.Schema), (other, Fixture.Schema));
        s.Catalog.Options.Databases[name].Assertions.Add(new AssertionOptions { Name = "customers exist", Sql = "SELECT count(*) FROM \"Billing\".\"Customer Accounts\"", Expect = AssertionExpectation.AtLeast, Value = "1" });
        s.Catalog.Options.Databases[other].Assertions.Add(new AssertionOptions { Name = "no invoice without a note", Sql = "SELECT id FROM \"Billing\".invoices WHERE note IS NULL" });
        await s.Drills.RunAsync(s.Drills.CreateInput([name, other]));
        var (report, _) = await s.Drills.RunAsync(s.Drills.CreateInput([name, other])); // a second drill has a trend
        var html = Path.Combine(s.Catalog.Directory, "drill.html");
        await File.WriteAllTextAsync(html, await s.Drills.ReadAsync(report.DrillId, "html"));
        var screenshot = Path.Combine(Environment.GetEnvironmentVariable("SBK_TEST_ARTIFACTS") ?? s.Catalog.Directory, "drill-report.png");

        var (exit, dom, errors) = await RunAsync(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--dump-dom", new Uri(html).AbsoluteUri);
        var (shotExit, _, _) = await RunAsync(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1280,1100", "--screenshot=" + screenshot, new Uri(html).AbsoluteUri);

        Assert.Equal(0, exit);
        Assert.Contains("Restore drill: 1 of 2 databases passed", dom, StringComparison.Ordinal);
        var checks = dom.IndexOf("<h2>Checks</h2>", StringComparison.Ordinal) is var at and >= 0 ? dom[at..Math.Min(dom.Length, at + 4000)] : dom;
        Assert.True(dom.Contains("no invoice without a note", StringComparison.Ordinal), "The failed assertion is not in the report's checks: " + checks);
        Assert.Contains("Trend: recovery time in earlier drills", dom, StringComparison.Ordinal);
        Assert.DoesNotContain("CONSOLE", errors, StringComparison.Ordinal);
        Assert.DoesNotContain("Uncaught", errors, StringComparison.Ordinal);
        Assert.Equal(0, shotExit);
        Assert.True(new FileInfo(screenshot).Length > 10_000, "the screenshot is (nearly) empty");
    }

    private static async Task<(int Exit, string Output, string Errors)> RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        return (process.ExitCode, await output, await errors);
    }
}
