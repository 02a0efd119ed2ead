using ServerlessBackup.Workflows;

namespace ServerlessBackup.Schedules;

/// <summary>
/// Backs up every due database as one activity each, at most MaxParallel at once; one failure
/// never stops the others (the activity reports a failure as a result, it does not throw). The
/// custom status maps each database to where it is, so that the next tick can skip the databases
/// still in flight. Deterministic: no clock, GUID, random or I/O here.
/// </summary>
public static class RunDueWorkflow
{
    /// <summary>The orchestration's name.</summary>
    public const string Name = "RunDue";

    /// <summary>The activity that backs up one database.</summary>
    public const string Backup = "run-due-backup";

    /// <summary>Instance ids of run-due orchestrations start with this.</summary>
    public const string InstancePrefix = "rundue-";

    private static readonly ActivityRetry Once = new(1, TimeSpan.Zero);

    /// <summary>Runs the plan; returns one result per database, in the plan's order.</summary>
    public static async Task<IReadOnlyList<RunDueResult>> RunAsync(WorkflowContext context, RunDueInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var state = input.Databases.ToDictionary(d => d.Database, _ => "waiting", StringComparer.Ordinal);
        void Publish(string database, string phase)
        {
            state[database] = phase;
            context.SetCustomStatus(new SortedDictionary<string, string>(state, StringComparer.Ordinal));
        }

        var results = new RunDueResult[input.Databases.Count];
        var lanes = Math.Max(1, Math.Min(input.MaxParallel, input.Databases.Count));
        await Task.WhenAll(Enumerable.Range(0, lanes).Select(async lane =>
        {
            for (var i = lane; i < input.Databases.Count; i += lanes)
            {
                var target = input.Databases[i];
                Publish(target.Database, "backing up");
                try
                {
                    results[i] = await context.CallActivityAsync<RunDueResult>(Backup, new RunDueBackupInput(target.Database, target.Reason, input.TickAt), Once).ConfigureAwait(true);
                }
                catch (ActivityFailedException ex)
                {
                    results[i] = new RunDueResult(target.Database, "failed", target.Reason, null, ex.Message, null);
                }

                Publish(target.Database, results[i].Outcome);
            }
        })).ConfigureAwait(true);
        return results;
    }
}

/// <summary>What a run-due orchestration backs up, decided by the timer (or <c>sbk run-due</c>) before it starts.</summary>
/// <param name="RunId">The instance id (<c>rundue-…</c>).</param>
/// <param name="TickAt">When the databases were found due; a backup that started since makes another one unnecessary.</param>
/// <param name="Databases">The due databases.</param>
/// <param name="MaxParallel">Backups at once.</param>
public sealed record RunDueInput(string RunId, DateTimeOffset TickAt, IReadOnlyList<RunDueTarget> Databases, int MaxParallel);

/// <summary>A due database.</summary>
/// <param name="Database">The catalog name.</param>
/// <param name="Reason">Why it is due.</param>
public sealed record RunDueTarget(string Database, string Reason);

/// <summary>Input of the backup activity.</summary>
/// <param name="Database">The catalog name.</param>
/// <param name="Reason">Why it is due.</param>
/// <param name="TickAt">When it was found due.</param>
public sealed record RunDueBackupInput(string Database, string Reason, DateTimeOffset TickAt);
