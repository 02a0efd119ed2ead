using ServerlessBackup.Backups;
using ServerlessBackup.Errors;
using ServerlessBackup.Notify;
using ServerlessBackup.Restore;
using ServerlessBackup.Workflows;

namespace ServerlessBackup.Drills;

/// <summary>
/// The drill's activities: plain engine calls with typed inputs and outputs. Activities run at
/// least once (a crash can repeat one), so each is idempotent: finding a backup and loading the
/// trend only read; a repeated restore makes another scratch database that the janitor drops when
/// it expires; dropping an absent scratch database succeeds; saving the report overwrites it.
/// </summary>
public sealed class DrillActivities
{
    private readonly DrillEngine drills;
    private readonly BackupEngine backups;
    private readonly RestoreEngine restores;
    private readonly Notifier notifier;

    internal DrillActivities(DrillEngine drills, BackupEngine backups, RestoreEngine restores, Notifier notifier)
    {
        this.drills = drills;
        this.backups = backups;
        this.restores = restores;
        this.notifier = notifier;
    }

    /// <summary>The backup a drill restores: the manifest is authenticated.</summary>
    public Task<DrillBackup> FindBackupAsync(DrillTarget target, CancellationToken cancellationToken = default) => WorkflowActivities.RunAsync(async () =>
    {
        ArgumentNullException.ThrowIfNull(target);
        var details = await backups.ShowAsync(target.Database, target.Backup, cancellationToken).ConfigureAwait(false);
        return new DrillBackup(details.Manifest.BackupId, details.Manifest.SnapshotTime, details.Manifest.Archive.Length);
    });

    /// <summary>Restores the backup into a new scratch database and measures each phase.</summary>
    public Task<DrillRestoreOutput> RestoreAsync(DrillRestoreInput input, CancellationToken cancellationToken = default) => WorkflowActivities.RunAsync(async () =>
    {
        ArgumentNullException.ThrowIfNull(input);
        var result = await restores.RestoreAsync(new RestoreRequest { Database = input.Database, Backup = input.BackupId }, null, cancellationToken).ConfigureAwait(false);
        var t = result.Timings;
        return new DrillRestoreOutput(result.Target, t.Download, t.Decrypt, t.Restore, t.Total, result.Bytes, result.Jobs);
    });

    /// <summary>Checks the restored copy (census, assertions) against the backup's manifest.</summary>
    public Task<DrillVerifyOutput> VerifyAsync(DrillVerifyInput input, CancellationToken cancellationToken = default) => WorkflowActivities.RunAsync(async () =>
    {
        ArgumentNullException.ThrowIfNull(input);
        var checks = await restores.CheckScratchAsync(input.Database, input.BackupId, input.ScratchDatabase, input.Level, cancellationToken).ConfigureAwait(false);
        return new DrillVerifyOutput(checks.Passed, checks.Checks, checks.RowsVerified, Math.Round(checks.Elapsed.TotalSeconds, 3));
    });

    /// <summary>Drops the scratch database; an absent one counts as dropped.</summary>
    public Task<bool> DropScratchAsync(DrillDropInput input, CancellationToken cancellationToken = default) => WorkflowActivities.RunAsync(async () =>
    {
        ArgumentNullException.ThrowIfNull(input);
        try
        {
            await restores.DropScratchAsync(input.ScratchDatabase, cancellationToken).ConfigureAwait(false);
        }
        catch (SbkException ex) when (ex.Kind == SbkErrorKind.NotFound)
        {
            // Already gone: dropping is idempotent.
        }

        return true;
    });

    /// <summary>Earlier drills' figures for the databases of this one.</summary>
    public Task<List<DrillTrendPoint>> LoadTrendAsync(DrillHistoryInput input, CancellationToken cancellationToken = default) =>
        WorkflowActivities.RunAsync(() => drills.LoadTrendAsync(input, cancellationToken));

    /// <summary>Stores the report, sealed; returns its key.</summary>
    public Task<List<string>> SaveReportAsync(DrillReport report, CancellationToken cancellationToken = default) =>
        WorkflowActivities.RunAsync(() => drills.SaveAsync(report, cancellationToken));

    /// <summary>Sends the summary to the notification targets; returns how many accepted it.</summary>
    public Task<int> NotifyAsync(DrillReport report, CancellationToken cancellationToken = default) => WorkflowActivities.RunAsync(() =>
    {
        ArgumentNullException.ThrowIfNull(report);
        var failed = report.Databases.Where(d => d.Outcome != DrillOutcome.Passed).Select(d => $"{d.Database}: {d.Outcome} ({string.Join("; ", d.Reasons.Take(2))})");
        return notifier.NotifyAsync(new Notification("drill-report", null, $"Restore drill {report.DrillId}: {report.Passed} of {report.Databases.Count} databases passed",
            report.AllPassed ? "Every database restored, verified, and met its RTO and RPO objectives." : string.Join("\n", failed),
            $"sbk drill show {report.DrillId}", report.FinishedAt), cancellationToken);
    });

    /// <summary>Registers every activity under its workflow name.</summary>
    public WorkflowActivities Register(WorkflowActivities activities)
    {
        ArgumentNullException.ThrowIfNull(activities);
        return activities
            .Add<DrillTarget, DrillBackup>(DrillWorkflow.FindBackup, FindBackupAsync)
            .Add<DrillRestoreInput, DrillRestoreOutput>(DrillWorkflow.Restore, RestoreAsync)
            .Add<DrillVerifyInput, DrillVerifyOutput>(DrillWorkflow.Verify, VerifyAsync)
            .Add<DrillDropInput, bool>(DrillWorkflow.DropScratch, DropScratchAsync)
            .Add<DrillHistoryInput, List<DrillTrendPoint>>(DrillWorkflow.LoadTrend, LoadTrendAsync)
            .Add<DrillReport, List<string>>(DrillWorkflow.SaveReport, SaveReportAsync)
            .Add<DrillReport, int>(DrillWorkflow.Notify, NotifyAsync);
    }
}
