using Polly;
using Polly.Retry;

namespace ServerlessBackup.Errors;

/// <summary>
/// The engine's retry policy, one place: what an <see cref="SbkException"/> marks transient is
/// tried again with a short backoff, anything else fails at once. (The Azure SDK retries the
/// network itself; this covers what the engine knows is worth another try.)
/// </summary>
public static class Retries
{
    /// <summary>
    /// For small state objects replaced whole, often: a read may meet one that is being replaced
    /// (gone for an instant) or a store that answered "busy"; a few quick tries see it settle.
    /// </summary>
    public static ResiliencePipeline StateReads { get; } = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<SbkException>(ex => ex.IsTransient || ex.Kind == SbkErrorKind.NotFound),
            MaxRetryAttempts = 4,
            Delay = TimeSpan.FromMilliseconds(20),
            BackoffType = DelayBackoffType.Linear,
            UseJitter = false,
        })
        .Build();
}
