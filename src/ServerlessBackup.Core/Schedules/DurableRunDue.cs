using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace ServerlessBackup.Schedules;

/// <summary>
/// What the Functions app's RunDue timer does on each tick: find the databases whose own schedule
/// says they are due, leave out those an earlier tick's orchestration has not finished yet (a
/// long backup is never queued twice), and start one <see cref="RunDueWorkflow"/> orchestration
/// for the rest.
/// </summary>
public static class DurableRunDue
{
    /// <summary>Starts the orchestration for the due databases; returns its instance id, or null when nothing is due.</summary>
    public static async Task<string?> StartDueAsync(DurableTaskClient client, RunDue runDue, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(runDue);
        var inFlight = await InFlightAsync(client, cancellationToken).ConfigureAwait(false);
        var (_, input) = await runDue.PlanAsync(inFlight, null, cancellationToken).ConfigureAwait(false);
        if (input is null)
        {
            return null;
        }

        await client.ScheduleNewOrchestrationInstanceAsync(RunDueWorkflow.Name, input, new StartOrchestrationOptions(input.RunId), cancellationToken).ConfigureAwait(false);
        return input.RunId;
    }

    /// <summary>The databases that unfinished run-due orchestrations have not backed up yet.</summary>
    public static async Task<IReadOnlySet<string>> InFlightAsync(DurableTaskClient client, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var databases = new HashSet<string>(StringComparer.Ordinal);
        var query = new OrchestrationQuery
        {
            InstanceIdPrefix = RunDueWorkflow.InstancePrefix,
            Statuses = [OrchestrationRuntimeStatus.Pending, OrchestrationRuntimeStatus.Running, OrchestrationRuntimeStatus.Suspended],
            FetchInputsAndOutputs = true,
        };
        await foreach (var instance in client.GetAllInstancesAsync(query).WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            var progress = instance.SerializedCustomStatus is null ? null : instance.ReadCustomStatusAs<Dictionary<string, string>>();
            foreach (var target in instance.ReadInputAs<RunDueInput>()?.Databases ?? [])
            {
                if (progress?.GetValueOrDefault(target.Database) is null or "waiting" or "backing up")
                {
                    databases.Add(target.Database);
                }
            }
        }

        return databases;
    }
}
