using Microsoft.Azure.Functions.Worker;
using ServerlessBackup.Drills;
using ServerlessBackup.Operations;
using ServerlessBackup.Schedules;

namespace ServerlessBackup.Functions;

/// <summary>
/// The activities: each one an engine call with a typed input and output. Activities run at least
/// once (a recycled instance repeats the one it was running), so each engine call is idempotent;
/// see the engine's activity classes for what a repeat does.
/// </summary>
public sealed class ActivityFunctions(OperationActivities operations, DrillActivities drills, RunDue runDue)
{
    /// <summary>Runs an API operation with the engine.</summary>
    [Function(OperationWorkflow.Run)]
    public Task<OperationOutcome> RunOperationAsync([ActivityTrigger] OperationRecord record, CancellationToken cancellationToken) => operations.RunAsync(record, cancellationToken);

    /// <summary>Posts an ended operation's outcome to Slack.</summary>
    [Function(OperationWorkflow.PostOutcome)]
    public Task<bool> PostOutcomeAsync([ActivityTrigger] OperationRecord record, CancellationToken cancellationToken) => operations.PostOutcomeAsync(record, cancellationToken);

    /// <summary>Backs up one due database.</summary>
    [Function(RunDueWorkflow.Backup)]
    public Task<RunDueResult> RunDueBackupAsync([ActivityTrigger] RunDueBackupInput input, CancellationToken cancellationToken) => runDue.BackupAsync(input, cancellationToken);

    /// <summary>Drill: the backup to restore.</summary>
    [Function(DrillWorkflow.FindBackup)]
    public Task<DrillBackup> FindBackupAsync([ActivityTrigger] DrillTarget input, CancellationToken cancellationToken) => drills.FindBackupAsync(input, cancellationToken);

    /// <summary>Drill: restore into a scratch database.</summary>
    [Function(DrillWorkflow.Restore)]
    public Task<DrillRestoreOutput> RestoreAsync([ActivityTrigger] DrillRestoreInput input, CancellationToken cancellationToken) => drills.RestoreAsync(input, cancellationToken);

    /// <summary>Drill: verify the restored copy.</summary>
    [Function(DrillWorkflow.Verify)]
    public Task<DrillVerifyOutput> VerifyAsync([ActivityTrigger] DrillVerifyInput input, CancellationToken cancellationToken) => drills.VerifyAsync(input, cancellationToken);

    /// <summary>Drill: drop the scratch database.</summary>
    [Function(DrillWorkflow.DropScratch)]
    public Task<bool> DropScratchAsync([ActivityTrigger] DrillDropInput input, CancellationToken cancellationToken) => drills.DropScratchAsync(input, cancellationToken);

    /// <summary>Drill: earlier drills' figures.</summary>
    [Function(DrillWorkflow.LoadTrend)]
    public Task<List<DrillTrendPoint>> LoadTrendAsync([ActivityTrigger] DrillHistoryInput input, CancellationToken cancellationToken) => drills.LoadTrendAsync(input, cancellationToken);

    /// <summary>Drill: store the sealed report.</summary>
    [Function(DrillWorkflow.SaveReport)]
    public Task<List<string>> SaveReportAsync([ActivityTrigger] DrillReport report, CancellationToken cancellationToken) => drills.SaveReportAsync(report, cancellationToken);

    /// <summary>Drill: notify the team.</summary>
    [Function(DrillWorkflow.Notify)]
    public Task<int> NotifyAsync([ActivityTrigger] DrillReport report, CancellationToken cancellationToken) => drills.NotifyAsync(report, cancellationToken);
}
