using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessBackup.Diagnostics;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Workflows;

/// <summary>
/// Runs a workflow in this process the way Durable Functions would: the workflow's code runs on
/// one thread, one event at a time; activities run elsewhere and their completions are delivered
/// to it in order, each changing CurrentUtcDateTime; inputs and results round-trip through JSON.
/// Every scheduled call and delivered completion is recorded in a <see cref="WorkflowHistory"/>;
/// <see cref="ReplayAsync{T}"/> runs the workflow again against a history, delivering the recorded
/// results in the recorded order, and fails if the workflow schedules anything differently.
/// </summary>
public sealed class InProcessWorkflowRuntime : WorkflowContext
{
    /// <summary>How activities' inputs and results are serialized.</summary>
    public static readonly JsonSerializerOptions Json = SbkJson.Web(stringEnums: true);

    private readonly BlockingCollection<Action> queue = [];
    private readonly Dictionary<int, Action<DeliveredCompletion>> pending = [];
    private readonly WorkflowActivities? activities;
    private readonly string instanceId;
    private readonly WorkflowHistory? replay;
    private readonly TimeProvider time;
    private readonly ILoggerFactory loggers;
    private readonly CancellationToken cancellationToken;
    private int delivered;
    private DateTimeOffset now;
    private Exception? failure;

    private InProcessWorkflowRuntime(string instanceId, WorkflowActivities? activities, WorkflowHistory? replay, TimeProvider time, ILoggerFactory? loggers, CancellationToken cancellationToken)
    {
        this.instanceId = instanceId;
        this.activities = activities;
        this.replay = replay;
        this.time = time;
        this.loggers = loggers ?? NullLoggerFactory.Instance;
        this.cancellationToken = cancellationToken;
        now = replay?.StartedAt ?? time.GetUtcNow();
        History = new WorkflowHistory { InstanceId = instanceId, StartedAt = now };
    }

    /// <summary>What this run did.</summary>
    public WorkflowHistory History { get; }

    /// <summary>Raised (on the workflow's thread) whenever the workflow publishes a custom status.</summary>
    public event Action<object?>? StatusChanged;

    /// <inheritdoc />
    public override string InstanceId => instanceId;

    /// <inheritdoc />
    public override DateTimeOffset CurrentUtcDateTime => now;

    /// <inheritdoc />
    public override bool IsReplaying => replay is not null;

    /// <summary>Runs <paramref name="workflow"/> as instance <paramref name="instanceId"/>, executing activities from <paramref name="activities"/> by name.</summary>
    public static async Task<(T Result, WorkflowHistory History)> RunAsync<T>(string instanceId, Func<WorkflowContext, Task<T>> workflow,
        WorkflowActivities activities, TimeProvider? time = null, ILoggerFactory? loggers = null,
        Action<object?>? onStatus = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        ArgumentNullException.ThrowIfNull(workflow);
        ArgumentNullException.ThrowIfNull(activities);
        var runtime = new InProcessWorkflowRuntime(instanceId, activities, null, time ?? TimeProvider.System, loggers, cancellationToken);
        if (onStatus is not null)
        {
            runtime.StatusChanged += onStatus;
        }

        var result = await Task.Factory.StartNew(() => runtime.Pump(workflow), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
        return (result, runtime.History);
    }

    /// <summary>Replays <paramref name="workflow"/> against <paramref name="history"/>; returns its result.</summary>
    /// <exception cref="WorkflowNonDeterminismException">It scheduled a different call, or waited for one that never happened.</exception>
    public static Task<T> ReplayAsync<T>(Func<WorkflowContext, Task<T>> workflow, WorkflowHistory history)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        ArgumentNullException.ThrowIfNull(history);
        var runtime = new InProcessWorkflowRuntime(history.InstanceId, null, history, TimeProvider.System, null, CancellationToken.None);
        return Task.Factory.StartNew(() => runtime.Pump(workflow), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    private T Pump<T>(Func<WorkflowContext, Task<T>> workflow)
    {
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(new PumpContext(queue));
        try
        {
            var task = workflow(this);
            while (!task.IsCompleted && failure is null)
            {
                if (queue.TryTake(out var action, replay is null ? 100 : 0))
                {
                    action();
                }
                else if (replay is not null)
                {
                    DeliverNextRecorded();
                }
            }

            if (failure is not null)
            {
                throw failure;
            }

            if (replay is not null && History.Scheduled.Count != replay.Scheduled.Count)
            {
                throw new WorkflowNonDeterminismException($"The replay scheduled {History.Scheduled.Count} calls; the recorded run scheduled {replay.Scheduled.Count}.");
            }

            return task.GetAwaiter().GetResult();
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    /// <inheritdoc />
    public override Task<TResult> CallActivityAsync<TResult>(string name, object? input, ActivityRetry? retry = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var inputJson = input is null ? "null" : JsonSerializer.Serialize(input, Json.InfoOf(input));
        var completion = new TaskCompletionSource<TResult>();
        var sequence = Schedule("activity", name, inputJson, delivered =>
        {
            if (delivered.Error is not null)
            {
                completion.SetException(new ActivityFailedException(name, delivered.Error));
            }
            else
            {
                completion.SetResult(JsonSerializer.Deserialize(delivered.Result!, Json.Info<TResult>())!);
            }
        });
        if (replay is null && sequence >= 0)
        {
            _ = ExecuteAsync(sequence, name, inputJson, retry ?? new ActivityRetry(1, TimeSpan.Zero));
        }

        return completion.Task;
    }

    /// <inheritdoc />
    public override Task CreateTimer(DateTimeOffset fireAt, CancellationToken cancellationToken)
    {
        var completion = new TaskCompletionSource();
        var sequence = Schedule("timer", "timer", JsonSerializer.Serialize(fireAt, Json.Info<DateTimeOffset>()), _ => completion.TrySetResult());
        cancellationToken.Register(() => completion.TrySetCanceled(cancellationToken));
        if (replay is null && sequence >= 0)
        {
            _ = Task.Delay(Max(fireAt - time.GetUtcNow(), TimeSpan.Zero), time, cancellationToken).ContinueWith(t =>
            {
                if (t.IsCompletedSuccessfully)
                {
                    Deliver(new DeliveredCompletion(sequence, "null", null, time.GetUtcNow()));
                }
            }, TaskScheduler.Default);
        }

        return completion.Task;
    }

    /// <inheritdoc />
    public override void SetCustomStatus(object? status) => StatusChanged?.Invoke(status);

    /// <inheritdoc />
    public override ILogger CreateReplaySafeLogger(string categoryName) => IsReplaying ? NullLogger.Instance : loggers.CreateLogger(categoryName);

    private int Schedule(string kind, string name, string input, Action<DeliveredCompletion> onCompleted)
    {
        var call = new ScheduledCall(History.Scheduled.Count, kind, name, input);
        if (replay is not null)
        {
            var expected = call.Sequence < replay.Scheduled.Count ? replay.Scheduled[call.Sequence] : null;
            if (expected != call)
            {
                failure ??= new WorkflowNonDeterminismException(expected is null
                    ? $"The replay scheduled call {call.Sequence} ({kind} {name}) that the recorded run never made."
                    : $"Call {call.Sequence} differs: the recorded run scheduled {expected.Kind} {expected.Name}({expected.Input}); the replay scheduled {kind} {name}({input}).");
                return -1;
            }
        }

        History.Scheduled.Add(call);
        pending[call.Sequence] = onCompleted;
        return call.Sequence;
    }

    private async Task ExecuteAsync(int sequence, string name, string inputJson, ActivityRetry retry)
    {
        string? result = null;
        string? error = null;
        if (!activities!.TryGet(name, out var activity))
        {
            error = $"There is no activity named '{name}'.";
        }
        else
        {
            var wait = retry.FirstRetryInterval;
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    result = await activity(inputJson, cancellationToken).ConfigureAwait(false);
                    break;
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    if (attempt >= retry.MaxAttempts || !WorkflowActivities.IsRetryable(ex))
                    {
                        error = SecretRedactor.Redact(ex is SbkException or TransientActivityException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}");
                        break;
                    }

                    await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
                    wait = TimeSpan.FromTicks((long)(wait.Ticks * retry.BackoffCoefficient));
                }
            }
        }

        Deliver(new DeliveredCompletion(sequence, result, error, time.GetUtcNow()));
    }

    /// <summary>Queues a completion for the workflow's thread; the order of delivery is what the history records.</summary>
    private void Deliver(DeliveredCompletion completion) => queue.Add(() =>
    {
        if (pending.Remove(completion.Sequence, out var onCompleted))
        {
            now = completion.At;
            History.Delivered.Add(completion);
            onCompleted(completion);
        }
    });

    private void DeliverNextRecorded()
    {
        if (delivered >= replay!.Delivered.Count)
        {
            failure ??= new WorkflowNonDeterminismException("The replay waits for a completion the recorded run never had.");
            return;
        }

        var next = replay.Delivered[delivered++];
        if (!pending.ContainsKey(next.Sequence))
        {
            failure ??= new WorkflowNonDeterminismException($"The recorded run completed call {next.Sequence}, which the replay has not scheduled.");
            return;
        }

        Deliver(next);
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>Posts continuations to the workflow's single thread.</summary>
    private sealed class PumpContext(BlockingCollection<Action> queue) : SynchronizationContext
    {
        public override void Post(SendOrPostCallback d, object? state) => queue.Add(() => d(state));

        public override void Send(SendOrPostCallback d, object? state) => throw new NotSupportedException("Workflow code runs on one thread; use Post.");

        public override SynchronizationContext CreateCopy() => this;
    }
}
