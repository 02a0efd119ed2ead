using System.Globalization;
using Microsoft.Extensions.Logging;
using ServerlessBackup.Workflows;

namespace ServerlessBackup.Drills;

/// <summary>
/// The restore drill, as a deterministic workflow: for every database, find the backup, restore it
/// into scratch, verify it, always drop the scratch database, and measure RTO and RPO against the
/// objectives; at most MaxParallel databases at once; one database's failure never stops the
/// others; after the deadline nothing new starts and unfinished databases are timed out (their
/// scratch databases are still dropped). Then load the trend, save the reports and notify.
/// Every await keeps the workflow's context (ConfigureAwait(true)): its code must run on the
/// runtime's single workflow thread. No clock, GUID, random, I/O or environment here.
/// </summary>
public static class DrillWorkflow
{
    /// <summary>Activity names.</summary>
    public const string FindBackup = "drill-find-backup", Restore = "drill-restore", Verify = "drill-verify", DropScratch = "drill-drop-scratch",
        LoadTrend = "drill-load-trend", SaveReport = "drill-save-report", Notify = "drill-notify";

    private static readonly ActivityRetry Once = new(1, TimeSpan.Zero);
    private static readonly ActivityRetry Cleanup = new(5, TimeSpan.FromSeconds(2));

    /// <summary>Runs the drill.</summary>
    public static async Task<DrillReport> RunAsync(WorkflowContext context, DrillInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var log = context.CreateReplaySafeLogger("ServerlessBackup.Drills");
        var startedAt = context.CurrentUtcDateTime;
        var deadlineAt = startedAt.AddSeconds(input.DeadlineSeconds);
        using var deadlineCancel = new CancellationTokenSource();
        var deadline = context.CreateTimer(deadlineAt, deadlineCancel.Token);
        var progress = new SortedDictionary<string, DrillProgress>(StringComparer.Ordinal);
        foreach (var target in input.Databases)
        {
            progress[target.Database] = new DrillProgress("waiting", startedAt);
        }

        void Phase(string database, string phase)
        {
            progress[database] = new DrillProgress(phase, context.CurrentUtcDateTime);
            context.SetCustomStatus(new Dictionary<string, DrillProgress>(progress));
        }

        log.LogInformation("Drill {DrillId} starts: {Count} database(s), {Parallel} at once, deadline {Deadline:u}", input.DrillId, input.Databases.Count, input.MaxParallel, deadlineAt);
        var lanes = Math.Max(1, Math.Min(input.MaxParallel, input.Databases.Count));
        var results = new DrillDatabaseResult?[input.Databases.Count];
        var laneTasks = Enumerable.Range(0, lanes).Select(async lane =>
        {
            for (var i = lane; i < input.Databases.Count; i += lanes)
            {
                results[i] = await RunDatabaseAsync(context, input, input.Databases[i], deadline, startedAt, Phase).ConfigureAwait(true);
                Phase(input.Databases[i].Database, results[i]!.Outcome.ToString().ToLowerInvariant());
            }
        }).ToList();
        await Task.WhenAll(laneTasks).ConfigureAwait(true);
        if (!deadline.IsCompleted)
        {
            deadlineCancel.Cancel();
        }

        var trend = await context.CallActivityAsync<List<DrillTrendPoint>>(LoadTrend, new DrillHistoryInput(input.DrillId, input.Databases.Select(d => d.Database).ToList()), ActivityRetry.Default).ConfigureAwait(true);
        var report = new DrillReport
        {
            DrillId = input.DrillId,
            StartedAt = startedAt,
            FinishedAt = context.CurrentUtcDateTime,
            DeadlineAt = deadlineAt,
            Level = input.Level,
            Databases = results.Select(r => r!).ToList(),
            Trend = trend,
        };
        await context.CallActivityAsync<List<string>>(SaveReport, report, ActivityRetry.Default).ConfigureAwait(true);
        await context.CallActivityAsync<int>(Notify, report, Once).ConfigureAwait(true);
        log.LogInformation("Drill {DrillId} finished: {Passed} of {Count} passed", input.DrillId, report.Passed, report.Databases.Count);
        return report;
    }

    private static async Task<DrillDatabaseResult> RunDatabaseAsync(WorkflowContext context, DrillInput input, DrillTarget target, Task deadline, DateTimeOffset startedAt, Action<string, string> phase)
    {
        var database = target.Database;
        var reasons = new List<string>();
        DrillBackup? backup = null;
        DrillRestoreOutput? restored = null;
        DrillVerifyOutput? verified = null;
        var timedOut = false;
        var dropped = false;
        try
        {
            if (deadline.IsCompleted)
            {
                timedOut = true;
                reasons.Add("The drill's deadline passed before this database started.");
            }
            else
            {
                phase(database, "finding the backup");
                backup = await context.CallActivityAsync<DrillBackup>(FindBackup, target, ActivityRetry.Default).ConfigureAwait(true);
                if (deadline.IsCompleted)
                {
                    timedOut = true;
                    reasons.Add("The drill's deadline passed before the restore started.");
                    return Result();
                }

                phase(database, "restoring");
                restored = await context.CallActivityAsync<DrillRestoreOutput>(Restore, new DrillRestoreInput(input.DrillId, database, backup.BackupId), Once).ConfigureAwait(true);
                if (deadline.IsCompleted)
                {
                    timedOut = true;
                    reasons.Add($"The drill's deadline passed during the restore ({restored.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s); the copy was not verified.");
                }
                else
                {
                    phase(database, "verifying");
                    verified = await context.CallActivityAsync<DrillVerifyOutput>(Verify, new DrillVerifyInput(database, backup.BackupId, restored.ScratchDatabase, input.Level), Once).ConfigureAwait(true);
                    reasons.AddRange(verified.Checks.Where(c => !c.Passed).Select(c => $"Check failed: {c.Kind} {c.Name}" + (c.Detail is null ? string.Empty : $": {c.Detail}")));
                }
            }
        }
        catch (ActivityFailedException ex)
        {
            reasons.Add($"{ex.Activity}: {ex.Message}");
        }
        finally
        {
            if (restored is not null)
            {
                phase(database, "dropping the scratch database");
                try
                {
                    dropped = await context.CallActivityAsync<bool>(DropScratch, new DrillDropInput(restored.ScratchDatabase), Cleanup).ConfigureAwait(true);
                }
                catch (ActivityFailedException ex)
                {
                    reasons.Add($"The scratch database {restored.ScratchDatabase} could not be dropped ({ex.Message}); 'sbk scratch sweep' drops it when it expires.");
                }
            }
        }

        return Result();

        DrillDatabaseResult Result()
        {
        double? rpo = backup is null ? null : Math.Round((startedAt - backup.SnapshotTime).TotalHours, 3);
        double? rto = restored is null || verified is null ? null : Math.Round(restored.TotalSeconds + verified.Seconds, 3);
        if (rpo > target.RpoHours)
        {
            reasons.Add($"RPO {rpo.Value.ToString("0.##", CultureInfo.InvariantCulture)} h is over the objective of {target.RpoHours.ToString("0.##", CultureInfo.InvariantCulture)} h: the newest backup is too old.");
        }

        if (rto > target.RtoHours * 3600)
        {
            reasons.Add($"RTO {(rto.Value / 3600).ToString("0.##", CultureInfo.InvariantCulture)} h is over the objective of {target.RtoHours.ToString("0.##", CultureInfo.InvariantCulture)} h.");
        }

        return new DrillDatabaseResult
        {
            Database = database,
            Outcome = timedOut ? DrillOutcome.TimedOut : reasons.Count == 0 && verified is { Passed: true } ? DrillOutcome.Passed : DrillOutcome.Failed,
            Reasons = reasons,
            BackupId = backup?.BackupId,
            SnapshotTime = backup?.SnapshotTime,
            RpoHours = rpo,
            RpoObjectiveHours = target.RpoHours,
            RtoSeconds = rto,
            RtoObjectiveHours = target.RtoHours,
            Phases = restored is null ? null : new DrillPhases(restored.DownloadSeconds, restored.DecryptSeconds, restored.RestoreSeconds, restored.TotalSeconds, verified?.Seconds ?? 0, Math.Max(1, restored.Jobs)),
            ArchiveBytes = backup?.ArchiveBytes ?? 0,
            DumpBytes = restored?.Bytes ?? 0,
            RowsVerified = verified?.RowsVerified ?? 0,
            Checks = verified?.Checks ?? [],
            ScratchDatabase = restored?.ScratchDatabase,
            ScratchDropped = dropped,
        };
        }
    }
}
