using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using ServerlessBackup.Drills;
using ServerlessBackup.Operations;
using ServerlessBackup.Schedules;

namespace ServerlessBackup.Functions;

/// <summary>
/// The catalog that runs itself. Each timer's schedule is an app setting (NCRONTAB, six fields);
/// the host runs one instance of each timer at a time across the app's replicas. Long work is
/// started as an orchestration, never run in the timer's process.
/// </summary>
public sealed class TimerFunctions(RunDue runDue, Maintenance maintenance, DrillEngine drills, OperationStore records, TimeProvider time, ILogger<TimerFunctions> logger)
{
    /// <summary>Function names.</summary>
    public const string RunDueTimer = "RunDue-Timer", MaintenanceTimer = "Maintenance-Timer", DrillTimer = "Drill-Timer";

    /// <summary>Every 5 minutes by default (Sbk__RunDueSchedule): starts one run-due orchestration for the databases whose own schedule is due.</summary>
    [Function(RunDueTimer)]
    public async Task RunDueAsync([TimerTrigger("%Sbk:RunDueSchedule%")] TimerInfo timer, [DurableClient] DurableTaskClient client, CancellationToken cancellationToken)
    {
        var started = await DurableRunDue.StartDueAsync(client, runDue, cancellationToken).ConfigureAwait(false);
        logger.LogInformation(started is null ? "run-due: no database is due" : "run-due: started {InstanceId}", started);
    }

    /// <summary>Hourly by default (Sbk__MaintenanceSchedule): retention, the scratch janitor, freshness with notifications.</summary>
    [Function(MaintenanceTimer)]
    public async Task MaintenanceAsync([TimerTrigger("%Sbk:MaintenanceSchedule%")] TimerInfo timer, CancellationToken cancellationToken)
    {
        var report = await maintenance.RunAsync(cancellationToken).ConfigureAwait(false);
        if (report.Failures.Count > 0)
        {
            // A failed step fails the invocation, so the host's failure metrics and alerts see it.
            throw new InvalidOperationException($"Maintenance: {report.Failures.Count} step(s) failed: {string.Join("; ", report.Failures)}");
        }
    }

    /// <summary>Quarterly by default (Sbk__DrillSchedule): a restore drill of every catalogued database.</summary>
    [Function(DrillTimer)]
    public async Task DrillAsync([TimerTrigger("%Sbk:DrillSchedule%")] TimerInfo timer, [DurableClient] DurableTaskClient client, CancellationToken cancellationToken)
    {
        var operations = new DurableOperations(client, records, time);
        var record = ScheduledDrill.Create(drills, operations.NewId(OperationKinds.Drill), time.GetUtcNow());
        await operations.SubmitAsync(record, cancellationToken).ConfigureAwait(false);
        logger.LogInformation("Scheduled restore drill {DrillId} of {Count} database(s) started", record.Id, record.Drill!.Databases.Count);
    }
}
