using ServerlessBackup.Backups;
using ServerlessBackup.Workflows;

namespace ServerlessBackup.Operations;

/// <summary>
/// The activities of <see cref="OperationWorkflow"/>. Running an operation is not retried by the
/// workflow (a backup or restore is not repeated behind the caller's back); posting the outcome is
/// best effort. The running operation publishes its progress to the store for status queries.
/// </summary>
public sealed class OperationActivities
{
    private readonly OperationExecutor executor;
    private readonly OperationStore records;
    private readonly OperationNotices notices;
    private readonly TimeProvider time;

    public OperationActivities(OperationExecutor executor, OperationStore records, OperationNotices notices, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(executor);
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(notices);
        this.executor = executor;
        this.records = records;
        this.notices = notices;
        this.time = time ?? TimeProvider.System;
    }

    /// <summary>Runs the operation with the engine; its outcome, never an engine exception.</summary>
    public async Task<OperationOutcome> RunAsync(OperationRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        var last = DateTimeOffset.MinValue;
        var progress = new Progress(p =>
        {
            var now = time.GetUtcNow();
            if (now - last >= TimeSpan.FromSeconds(2))
            {
                last = now;
                _ = PublishAsync(record.Id, new OperationProgress(OperationProgress.PhaseOf(p), p.SourceBytes, now) { Tables = TableCount.Of(p) });
            }
        });
        return await executor.RunAsync(record, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Posts an ended operation's outcome to Slack; whether Slack took it.</summary>
    public Task<bool> PostOutcomeAsync(OperationRecord ended, CancellationToken cancellationToken = default) => notices.PostOutcomeAsync(ended, cancellationToken);

    /// <summary>Registers the activities under their workflow names.</summary>
    public WorkflowActivities Register(WorkflowActivities activities)
    {
        ArgumentNullException.ThrowIfNull(activities);
        return activities
            .Add<OperationRecord, OperationOutcome>(OperationWorkflow.Run, RunAsync)
            .Add<OperationRecord, bool>(OperationWorkflow.PostOutcome, PostOutcomeAsync);
    }

    private async Task PublishAsync(string id, OperationProgress progress)
    {
        try
        {
            await records.WriteProgressAsync(id, progress, CancellationToken.None).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Progress is a courtesy: a failed write must never fail the operation.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    private sealed class Progress(Action<WorkProgress> handler) : IProgress<WorkProgress>
    {
        public void Report(WorkProgress value) => handler(value);
    }
}
