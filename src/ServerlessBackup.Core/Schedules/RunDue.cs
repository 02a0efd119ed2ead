using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessBackup.Backups;
using ServerlessBackup.Catalog;
using ServerlessBackup.Diagnostics;
using ServerlessBackup.Errors;
using ServerlessBackup.Workflows;

namespace ServerlessBackup.Schedules;

/// <summary>
/// Backing up every due database: the plan (which databases are due now, minus those already in
/// flight), the backup activity (idempotent: it skips a database backed up since the plan was
/// made, and one whose backup is running elsewhere), and <c>sbk run-due</c>'s in-process run of
/// <see cref="RunDueWorkflow"/>, the same workflow the Functions app runs on Durable.
/// </summary>
public sealed class RunDue
{
    private readonly SbkOptions options;
    private readonly Scheduler scheduler;
    private readonly BackupEngine backups;
    private readonly TimeProvider time;
    private readonly ILoggerFactory loggers;
    private readonly ILogger logger;

    public RunDue(SbkOptions options, Scheduler scheduler, BackupEngine backups, TimeProvider? time = null, ILoggerFactory? loggers = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(scheduler);
        ArgumentNullException.ThrowIfNull(backups);
        this.options = options;
        this.scheduler = scheduler;
        this.backups = backups;
        this.time = time ?? TimeProvider.System;
        this.loggers = loggers ?? NullLoggerFactory.Instance;
        logger = this.loggers.CreateLogger<RunDue>();
    }

    /// <summary>Every database's due check, and the workflow input for the due ones not in <paramref name="inFlight"/> (null when none is due).</summary>
    public async Task<(IReadOnlyList<DueCheck> Checks, RunDueInput? Input)> PlanAsync(IReadOnlySet<string>? inFlight = null, int? maxParallel = null, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var checks = (await scheduler.GetDueAsync(cancellationToken).ConfigureAwait(false))
            .Select(c => c.Due && inFlight?.Contains(c.Database) == true ? c with { Due = false, Reason = "its backup from an earlier tick is still queued or running" } : c)
            .ToList();
        var due = checks.Where(c => c.Due).Select(c => new RunDueTarget(c.Database, c.Reason)).ToList();
        return (checks, due.Count == 0 ? null : new RunDueInput(RunDueWorkflow.InstancePrefix + BackupId.New(now), now, due, maxParallel ?? options.MaxParallelBackups));
    }

    /// <summary>
    /// Backs up every due database in this process, at most <paramref name="maxParallel"/> at once
    /// (default MaxParallelBackups), and reports each catalogued database; one failure never stops the others.
    /// </summary>
    public async Task<IReadOnlyList<RunDueResult>> RunAsync(int? maxParallel = null, bool dryRun = false, CancellationToken cancellationToken = default)
    {
        var (checks, input) = await PlanAsync(null, maxParallel, cancellationToken).ConfigureAwait(false);
        var done = new Dictionary<string, RunDueResult>(StringComparer.Ordinal);
        if (input is not null && !dryRun)
        {
            var (results, _) = await InProcessWorkflowRuntime.RunAsync(input.RunId, context => RunDueWorkflow.RunAsync(context, input),
                Register(new WorkflowActivities()), time, loggers, null, cancellationToken).ConfigureAwait(false);
            done = results.ToDictionary(r => r.Database, StringComparer.Ordinal);
        }

        return checks.Select(c => done.GetValueOrDefault(c.Database)
            ?? new RunDueResult(c.Database, c.Due ? "would-back-up" : "not-due", c.Reason, null, null, null)).ToList();
    }

    /// <summary>
    /// The activity: backs up one due database with its side effects (attempt recorded, failure
    /// notified). Never throws for a failed backup: the result says what happened. Skips the
    /// database when a backup started since <see cref="RunDueBackupInput.TickAt"/> (the activity
    /// ran before, or someone backed it up by hand) or when another backup of it is running.
    /// </summary>
    public async Task<RunDueResult> BackupAsync(RunDueBackupInput input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        var clock = Stopwatch.StartNew();
        try
        {
            var newest = (await backups.ListAsync(input.Database, cancellationToken).ConfigureAwait(false)).FirstOrDefault();
            if (newest is not null && newest.StartedAt >= input.TickAt)
            {
                return new RunDueResult(input.Database, "skipped", $"backup {newest.BackupId} started after it was found due", newest.BackupId, null, 0);
            }

            var manifest = await backups.BackupAsync(input.Database, null, null, cancellationToken).ConfigureAwait(false);
            return new RunDueResult(input.Database, "backed-up", input.Reason, manifest.BackupId, null, Math.Round(clock.Elapsed.TotalSeconds, 1));
        }
        catch (SbkException ex) when (ex.Kind == SbkErrorKind.AlreadyRunning)
        {
            return new RunDueResult(input.Database, "skipped", "another backup of it is running", null, null, Math.Round(clock.Elapsed.TotalSeconds, 1));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // One database's failure, whatever it is, is a result: the run report must survive it.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            var message = ex is SbkException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";
            logger.LogWarning("run-due: the backup of {Database} failed: {Message}", input.Database, SecretRedactor.Redact(message));
            return new RunDueResult(input.Database, "failed", input.Reason, null, SecretRedactor.Redact(message), Math.Round(clock.Elapsed.TotalSeconds, 1));
        }
    }

    /// <summary>Registers the activity under its workflow name.</summary>
    public WorkflowActivities Register(WorkflowActivities activities)
    {
        ArgumentNullException.ThrowIfNull(activities);
        return activities.Add<RunDueBackupInput, RunDueResult>(RunDueWorkflow.Backup, BackupAsync);
    }
}
