using Microsoft.Extensions.Logging;

namespace ServerlessBackup.Drills;

/// <summary>
/// What a deterministic workflow may use, and nothing else: activities (all I/O lives there),
/// the runtime's clock, durable timers, a custom status and a replay-safe logger. It maps one to
/// one onto Durable Functions' <c>TaskOrchestrationContext</c> (<c>CallActivityAsync</c>,
/// <c>CurrentUtcDateTime</c>, <c>CreateTimer</c>, <c>SetCustomStatus</c>,
/// <c>CreateReplaySafeLogger</c>), so the Functions host runs the same workflow code.
/// Workflow code must not read the system clock, make GUIDs or random numbers, touch files,
/// the network or the environment: a replay would then make different calls.
/// </summary>
public abstract class WorkflowContext
{
    /// <summary>The current time as the runtime knows it: the same value again on replay.</summary>
    public abstract DateTimeOffset CurrentUtcDateTime { get; }

    /// <summary>Whether the workflow is being replayed from history.</summary>
    public abstract bool IsReplaying { get; }

    /// <summary>
    /// Calls an activity by name. Activities run at least once (they may run again after a
    /// crash): keep them idempotent. Input and result must round-trip through JSON.
    /// </summary>
    /// <exception cref="ActivityFailedException">The activity failed on every attempt.</exception>
    public abstract Task<TResult> CallActivityAsync<TResult>(string name, object? input, ActivityRetry? retry = null);

    /// <summary>A durable timer that completes at <paramref name="fireAt"/> (or never, once <paramref name="cancellationToken"/> is cancelled).</summary>
    public abstract Task CreateTimer(DateTimeOffset fireAt, CancellationToken cancellationToken);

    /// <summary>Publishes progress for status queries (must serialize to JSON).</summary>
    public abstract void SetCustomStatus(object? status);

    /// <summary>A logger that stays silent while replaying.</summary>
    public abstract ILogger CreateReplaySafeLogger(string categoryName);
}
