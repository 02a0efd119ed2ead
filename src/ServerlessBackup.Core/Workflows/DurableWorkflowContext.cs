using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Workflows;

/// <summary>
/// The engine's <see cref="WorkflowContext"/> over the Durable Task SDK's
/// <see cref="TaskOrchestrationContext"/>: the same workflow code that <c>sbk</c> runs in-process
/// runs as a Durable orchestration in the Functions app. Every member maps onto its Durable
/// counterpart; retries use Durable's own retry policy with the engine's rule (a permanent
/// <see cref="SbkException"/> is not retried), and a failed activity surfaces as
/// <see cref="ActivityFailedException"/> with the activity's message.
/// </summary>
public sealed class DurableWorkflowContext : WorkflowContext
{
    private static readonly string[] PermanentFailures = [typeof(SbkException).FullName!, typeof(IntegrityException).FullName!];
    private readonly TaskOrchestrationContext context;

    /// <summary>Wraps <paramref name="context"/> (an orchestration trigger's context).</summary>
    public DurableWorkflowContext(TaskOrchestrationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        this.context = context;
    }

    /// <inheritdoc />
    public override string InstanceId => context.InstanceId;

    /// <inheritdoc />
    public override DateTimeOffset CurrentUtcDateTime => new(DateTime.SpecifyKind(context.CurrentUtcDateTime, DateTimeKind.Utc));

    /// <inheritdoc />
    public override bool IsReplaying => context.IsReplaying;

    /// <inheritdoc />
    public override async Task<TResult> CallActivityAsync<TResult>(string name, object? input, ActivityRetry? retry = null)
    {
        TaskOptions? options = null;
        if (retry is { MaxAttempts: > 1 })
        {
            options = TaskOptions.FromRetryPolicy(new RetryPolicy(retry.MaxAttempts, retry.FirstRetryInterval, retry.BackoffCoefficient)
            {
                HandleFailure = failure => !PermanentFailures.Contains(failure.ErrorType, StringComparer.Ordinal),
            });
        }

        try
        {
            return await context.CallActivityAsync<TResult>(name, input, options).ConfigureAwait(true);
        }
        catch (TaskFailedException ex)
        {
            throw new ActivityFailedException(name, ex.FailureDetails.ErrorMessage);
        }
    }

    /// <inheritdoc />
    public override Task CreateTimer(DateTimeOffset fireAt, CancellationToken cancellationToken) => context.CreateTimer(fireAt.UtcDateTime, cancellationToken);

    /// <inheritdoc />
    public override async Task<(bool Received, T? Payload)> WaitForExternalEventAsync<T>(string name, DateTimeOffset deadline)
        where T : default
    {
        using var cancel = new CancellationTokenSource();
        var timer = context.CreateTimer(deadline.UtcDateTime, cancel.Token);
        var received = context.WaitForExternalEvent<T>(name, cancel.Token);
        var first = await Task.WhenAny(received, timer).ConfigureAwait(true);
        cancel.Cancel();
        return first == received && received.IsCompletedSuccessfully ? (true, received.Result) : (false, default);
    }

    /// <inheritdoc />
    public override void SetCustomStatus(object? status) => context.SetCustomStatus(status);

    /// <inheritdoc />
    public override ILogger CreateReplaySafeLogger(string categoryName) => context.CreateReplaySafeLogger(categoryName);
}
