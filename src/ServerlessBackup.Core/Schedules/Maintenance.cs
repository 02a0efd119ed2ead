using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessBackup.Catalog;
using ServerlessBackup.Diagnostics;
using ServerlessBackup.Errors;
using ServerlessBackup.Restore;
using ServerlessBackup.Retention;

namespace ServerlessBackup.Schedules;

/// <summary>
/// The housekeeping the Functions app's Maintenance timer runs (hourly by default), each step on
/// its own so that one failing step never skips the others: retention (with the orphan sweep and
/// the retention-stalled warning) exactly as <c>sbk prune</c> decides it, the scratch janitor as
/// <c>sbk scratch sweep</c>, and freshness with notifications as <c>sbk status --notify</c>.
/// </summary>
public sealed class Maintenance
{
    private readonly SbkOptions options;
    private readonly RetentionEngine retention;
    private readonly RestoreEngine restores;
    private readonly Scheduler scheduler;
    private readonly ILogger logger;

    public Maintenance(SbkOptions options, RetentionEngine retention, RestoreEngine restores, Scheduler scheduler, ILogger<Maintenance>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(retention);
        ArgumentNullException.ThrowIfNull(restores);
        ArgumentNullException.ThrowIfNull(scheduler);
        this.options = options;
        this.retention = retention;
        this.restores = restores;
        this.scheduler = scheduler;
        this.logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Runs every step; returns what each did (or why it failed).</summary>
    public async Task<MaintenanceReport> RunAsync(CancellationToken cancellationToken = default)
    {
        var failures = new List<string>();
        int deleted = 0, swept = 0, scratchDropped = 0, previousDropped = 0, notified = 0, unhealthy = 0;
        await StepAsync("retention", async () =>
        {
            var reports = await retention.PruneAsync(null, dryRun: false, cancellationToken).ConfigureAwait(false);
            deleted = reports.Sum(r => r.Deleted);
            swept = reports.Sum(r => r.OrphansSwept.Count);
        }).ConfigureAwait(false);
        if (options.Scratch.ConnectionStringSecret is not null)
        {
            await StepAsync("scratch sweep", async () => scratchDropped = (await restores.SweepScratchAsync(dryRun: false, cancellationToken).ConfigureAwait(false)).Count).ConfigureAwait(false);
        }

        await StepAsync("previous sweep", async () =>
        {
            var (dropped, problems) = await restores.SweepPreviousAsync(dryRun: false, cancellationToken).ConfigureAwait(false);
            previousDropped = dropped.Count;
            foreach (var problem in problems)
            {
                // A server that cannot be reached now is the backups' concern (they alert); the sweep tries again next run.
                logger.LogWarning("Could not look for replaced databases kept beside {Problem}", SecretRedactor.Redact(problem));
            }
        }).ConfigureAwait(false);

        await StepAsync("freshness", async () =>
        {
            var statuses = await scheduler.GetStatusAsync(cancellationToken).ConfigureAwait(false);
            unhealthy = statuses.Count(s => s.State != FreshnessState.Ok);
            foreach (var s in statuses.Where(s => s.State != FreshnessState.Ok))
            {
                // The marker is what the deployment's "database late" alert searches for (infra/modules/monitoring.bicep).
                logger.LogWarning("[sbk.database-late] {Database} is {State}: {Summary}", s.Database, s.State.ToString().ToUpperInvariant(), s.Summary);
            }

            notified = await scheduler.NotifyUnhealthyAsync(statuses, cancellationToken).ConfigureAwait(false);
        }).ConfigureAwait(false);

        var report = new MaintenanceReport(deleted, swept, scratchDropped, unhealthy, notified, failures) { PreviousDropped = previousDropped };
        logger.LogInformation("Maintenance: {Deleted} backup(s) deleted by retention, {Swept} crashed backup(s) swept, {Dropped} expired scratch database(s) dropped, {PreviousDropped} expired replaced database(s) or abandoned restore copies dropped, {Unhealthy} database(s) not OK ({Notified} notification(s)), {Failures} step(s) failed",
            deleted, swept, scratchDropped, previousDropped, unhealthy, notified, failures.Count);
        return report;

        async Task StepAsync(string step, Func<Task> run)
        {
            try
            {
                await run().ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
#pragma warning disable CA1031 // Each step is a boundary: the others still run, and the failure is reported.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                var message = SecretRedactor.Redact(ex is SbkException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}");
                failures.Add($"{step}: {message}");
                logger.LogError("Maintenance step {Step} failed: {Message}", step, message);
            }
        }
    }
}

/// <summary>What one maintenance run did.</summary>
/// <param name="BackupsDeleted">Backups retention deleted.</param>
/// <param name="OrphansSwept">Crashed backups' archives swept.</param>
/// <param name="ScratchDropped">Expired scratch databases dropped.</param>
/// <param name="Unhealthy">Databases LATE or FAILING.</param>
/// <param name="Notified">Notifications sent about them.</param>
/// <param name="Failures">Steps that failed, with why.</param>
public sealed record MaintenanceReport(int BackupsDeleted, int OrphansSwept, int ScratchDropped, int Unhealthy, int Notified, IReadOnlyList<string> Failures)
{
    /// <summary>Expired replaced databases (kept after restores into real databases) and abandoned incoming copies dropped.</summary>
    public int PreviousDropped { get; init; }
}
