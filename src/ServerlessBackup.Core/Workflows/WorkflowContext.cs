using Microsoft.Extensions.Logging;

namespace ServerlessBackup.Workflows;

/// <summary>
/// What a deterministic workflow may use, and nothing else: activities (all I/O lives there),
/// the runtime's clock, durable timers, external events, a custom status and a replay-safe
/// logger. It maps one to one onto the Durable Task SDK's <c>TaskOrchestrationContext</c>
/// (<see cref="DurableWorkflowContext"/> is that adapter), so the Functions app runs the same
/// workflow code that <c>sbk</c> runs in-process on <see cref="InProcessWorkflowRuntime"/>.
/// Workflow code must not read the system clock, make GUIDs or random numbers, touch files,
/// the network or the environment, and must keep its awaits on the workflow's context
/// (<c>ConfigureAwait(true)</c>): a replay would otherwise make different calls.
/// </summary>
public abstract class WorkflowContext
{
    /// <summary>The workflow instance's id (an operation id, a drill id).</summary>
    public abstract string InstanceId { get; }

    /// <summary>The current time as the runtime knows it: the same value again on replay.</summary>
    public abstract DateTimeOffset CurrentUtcDateTime { get; }

    /// <summary>Whether the workflow is being replayed from history.</summary>
    public abstract bool IsReplaying { get; }

    /// <summary>
    /// Calls an activity by name. Activities run at least once (they may run again after a
    /// crash): keep them idempotent. Input and result must round-trip through JSON. A failure is
    /// retried as <paramref name="retry"/> says unless it is a permanent
    /// <see cref="Errors.SbkException"/> (see <see cref="WorkflowActivities"/>).
    /// </summary>
    /// <exception cref="ActivityFailedException">The activity failed on every attempt.</exception>
    public abstract Task<TResult> CallActivityAsync<TResult>(string name, object? input, ActivityRetry? retry = null);

    /// <summary>A durable timer that completes at <paramref name="fireAt"/> (or never, once <paramref name="cancellationToken"/> is cancelled).</summary>
    public abstract Task CreateTimer(DateTimeOffset fireAt, CancellationToken cancellationToken);

    /// <summary>
    /// Waits for the external event <paramref name="name"/> (raised by a client, e.g. an approval)
    /// until <paramref name="deadline"/>. Returns whether it arrived, and its payload.
    /// </summary>
    /// <exception cref="NotSupportedException">The runtime has no external events (the in-process runtime: sbk runs no workflow that waits for people).</exception>
    public virtual Task<(bool Received, T? Payload)> WaitForExternalEventAsync<T>(string name, DateTimeOffset deadline) =>
        throw new NotSupportedException($"This workflow runtime cannot wait for the external event '{name}'; run the workflow on the Durable Task runtime.");

    /// <summary>Publishes progress for status queries (must serialize to JSON).</summary>
    public abstract void SetCustomStatus(object? status);

    /// <summary>A logger that stays silent while replaying.</summary>
    public abstract ILogger CreateReplaySafeLogger(string categoryName);
}
