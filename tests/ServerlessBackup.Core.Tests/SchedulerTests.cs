using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using ServerlessBackup.Catalog;
using ServerlessBackup.Notify;
using ServerlessBackup.Schedules;
using ServerlessBackup.Tests.Infrastructure;

namespace ServerlessBackup.Tests;

public sealed class SchedulerTests
{
    private static DateTimeOffset At(string iso) => DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture);

    private static readonly CronSchedule Daily = CronSchedule.Parse("0 0 2 * * *");

    [Fact]
    public void A_database_never_backed_up_is_due()
    {
        var check = Scheduler.EvaluateDue("shop", Daily, TimeZoneInfo.Utc, null, At("2026-11-21T10:00:00Z"));

        Assert.True(check.Due);
        Assert.Equal(At("2026-11-22T02:00:00Z"), check.NextSlot);
    }

    [Fact]
    public void A_database_is_due_once_its_slot_passed_and_not_before()
    {
        var last = At("2026-11-20T02:00:07Z");

        Assert.False(Scheduler.EvaluateDue("shop", Daily, TimeZoneInfo.Utc, last, At("2026-11-21T01:59:59Z")).Due);
        var due = Scheduler.EvaluateDue("shop", Daily, TimeZoneInfo.Utc, last, At("2026-11-21T02:00:00Z"));
        Assert.True(due.Due);
        Assert.Equal(At("2026-11-21T02:00:00Z"), due.MissedSlot);
    }

    [Fact]
    public void A_database_that_missed_several_slots_is_due_once()
    {
        var last = At("2026-11-15T02:00:05Z");
        var now = At("2026-11-21T10:00:00Z");

        var check = Scheduler.EvaluateDue("shop", Daily, TimeZoneInfo.Utc, last, now);
        // After the one catch-up backup, it is not due again until the next slot.
        var after = Scheduler.EvaluateDue("shop", Daily, TimeZoneInfo.Utc, now.AddMinutes(1), now.AddMinutes(2));

        Assert.True(check.Due);
        Assert.Contains("6 scheduled backups were missed", check.Reason, StringComparison.Ordinal);
        Assert.False(after.Due);
        Assert.Equal(At("2026-11-22T02:00:00Z"), after.NextSlot);
    }

    [Fact]
    public void Without_a_schedule_a_database_is_never_due()
    {
        Assert.False(Scheduler.EvaluateDue("shop", null, TimeZoneInfo.Utc, null, At("2026-11-21T10:00:00Z")).Due);
    }

    [Theory]
    [InlineData("0 0 2 * * *", null, 25)]
    [InlineData("0 0 * * * *", null, 2)]
    [InlineData("0 0 3 * * SUN", null, 169)]
    [InlineData("0 0 2 * * *", 6.0, 6)]
    [InlineData(null, null, 25)]
    public void The_recovery_point_objective_defaults_to_the_longest_gap_plus_an_hour(string? schedule, double? configured, double expected)
    {
        var database = new DatabaseOptions { Schedule = schedule, Objectives = { RpoHours = configured } };

        Assert.Equal(expected, database.RpoHours(At("2026-01-05T00:00:00Z")));
    }

    [Fact]
    public async Task Run_due_backs_up_due_databases_reports_each_result_and_one_failure_stops_nothing()
    {
        var received = new List<RecordedRequest>();
        await using var receiver = await LoopbackServer.StartAsync((context, _) => { context.Response.StatusCode = 204; return Task.CompletedTask; });
        // A second target that never answers, and a third that fails: neither may hold up or break the run.
        await using var hanging = await LoopbackServer.StartAsync((context, _) => Task.Delay(Timeout.Infinite, context.RequestAborted));
        await using var failing = await LoopbackServer.StartAsync((context, _) => { context.Response.StatusCode = 500; return Task.CompletedTask; });
        using var catalog = await new TestCatalog().WithMasterKeyAsync();
        await using var a = await TestDatabase.CreateAsync("a");
        await a.ExecuteAsync("CREATE TABLE t AS SELECT g FROM generate_series(1, 100) g");
        await using var c = await TestDatabase.CreateAsync("c");
        await catalog.AddDatabaseAsync("alpha", a.ConnectionUri);
        await catalog.AddDatabaseAsync("broken", TestServers.ConnectionUri(a.Name, "Wr0ng+Canary/Pw-9931"));
        await catalog.AddDatabaseAsync("charlie", c.ConnectionUri);
        await catalog.AddDatabaseAsync("manual", c.ConnectionUri);
        catalog.Options.Databases["alpha"].Schedule = "0 0 2 * * *";
        catalog.Options.Databases["broken"].Schedule = "0 0 2 * * *";
        catalog.Options.Databases["charlie"].Schedule = "0 0 0 1 1 *";
        foreach (var (kind, server, secret) in new[] { (NotificationKind.Webhook, receiver, "hook"), (NotificationKind.Slack, hanging, "slow"), (NotificationKind.Teams, failing, "bad") })
        {
            await catalog.Secrets.SetSecretAsync(secret, new Uri(server.BaseUri, "/hooks/T000/" + secret).ToString());
            catalog.Options.Notifications.Targets.Add(new NotificationTargetOptions { Kind = kind, UrlSecret = secret });
        }

        catalog.Options.Notifications.TimeoutSeconds = 2;
        var engine = catalog.Engine(catalog.NewFileStore());
        var scheduler = new Scheduler(catalog.Options, engine, new Notifier(catalog.Options.Notifications, catalog.Secrets));
        await engine.BackupAsync("charlie"); // backed up now; next slot on 1 January

        var runDue = new RunDue(catalog.Options, scheduler, engine);
        var results = (await runDue.RunAsync(maxParallel: 2).WaitAsync(TimeSpan.FromMinutes(2))).ToDictionary(r => r.Database);

        Assert.Equal("backed-up", results["alpha"].Outcome);
        Assert.NotNull(results["alpha"].BackupId);
        Assert.Equal("failed", results["broken"].Outcome);
        Assert.Contains("Check the user and password", results["broken"].Error, StringComparison.Ordinal);
        Assert.Equal("not-due", results["charlie"].Outcome);
        Assert.Equal("not-due", results["manual"].Outcome);
        var note = Assert.Single(receiver.Requests);
        using var json = JsonDocument.Parse(note.Body);
        Assert.Equal("backup-failed", json.RootElement.GetProperty("event").GetString());
        Assert.Equal("broken", json.RootElement.GetProperty("database").GetString());
        Assert.Equal("sbk backup broken", json.RootElement.GetProperty("nextCommand").GetString());
        Assert.Contains("\"text\":", Assert.Single(hanging.Requests).Body, StringComparison.Ordinal);
        Assert.Contains("application/vnd.microsoft.card.adaptive", Assert.Single(failing.Requests).Body, StringComparison.Ordinal);
        foreach (var body in receiver.Requests.Concat(hanging.Requests).Concat(failing.Requests).Select(r => r.Body))
        {
            Assert.DoesNotContain("Wr0ng+Canary", body, StringComparison.Ordinal);
            Assert.DoesNotContain(TestServers.Password, body, StringComparison.Ordinal);
        }

        var status = (await scheduler.GetStatusAsync()).ToDictionary(s => s.Database);
        Assert.Equal(FreshnessState.Ok, status["alpha"].State);
        Assert.Equal(FreshnessState.Failing, status["broken"].State);
        Assert.Equal(FreshnessState.Ok, status["charlie"].State);
        Assert.Equal(FreshnessState.Late, status["manual"].State);
        Assert.Equal(25, status["alpha"].RpoHours);
        Assert.Contains("Configuration", status["broken"].Summary, StringComparison.Ordinal);

        var again = await runDue.RunAsync();
        Assert.Equal("not-due", again.Single(r => r.Database == "alpha").Outcome);
    }

    [Fact]
    public async Task A_database_whose_newest_backup_is_older_than_its_objective_is_late_and_the_team_hears_of_it()
    {
        await using var receiver = await LoopbackServer.StartAsync((context, _) => { context.Response.StatusCode = 200; return Task.CompletedTask; });
        using var catalog = await new TestCatalog().WithMasterKeyAsync();
        await using var source = await TestDatabase.CreateAsync("src");
        await catalog.AddDatabaseAsync("shop", source.ConnectionUri);
        catalog.Options.Databases["shop"].Schedule = "0 0 2 * * *";
        await catalog.Secrets.SetSecretAsync("slack", new Uri(receiver.BaseUri, "/services/T0/B0/x").ToString());
        catalog.Options.Notifications.Targets.Add(new NotificationTargetOptions { Kind = NotificationKind.Slack, UrlSecret = "slack" });
        var store = catalog.NewFileStore();
        var twoDaysAgo = new FixedTime(DateTimeOffset.UtcNow.AddDays(-2));
        await new Backups.BackupEngine(catalog.Options, store, catalog.Secrets, twoDaysAgo).BackupAsync("shop");
        var scheduler = new Scheduler(catalog.Options, catalog.Engine(store), new Notifier(catalog.Options.Notifications, catalog.Secrets));

        var status = Assert.Single(await scheduler.GetStatusAsync());
        var sent = await scheduler.NotifyUnhealthyAsync([status]);

        Assert.Equal(FreshnessState.Late, status.State);
        Assert.Contains("over its 25 h recovery point objective", status.Summary, StringComparison.Ordinal);
        Assert.Equal(1, sent);
        Assert.Contains("'shop' is late", Assert.Single(receiver.Requests).Body, StringComparison.Ordinal);
    }
}

internal sealed class FixedTime(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
