namespace ServerlessBackup.Workflows;

/// <summary>How often an activity is tried (Durable's <c>RetryPolicy</c>: attempts, first interval, backoff).</summary>
/// <param name="MaxAttempts">Attempts in all, the first included.</param>
/// <param name="FirstRetryInterval">Wait before the second attempt.</param>
/// <param name="BackoffCoefficient">Each further wait is multiplied by this.</param>
public sealed record ActivityRetry(int MaxAttempts, TimeSpan FirstRetryInterval, double BackoffCoefficient = 2)
{
    /// <summary>Three attempts, 2 s then 4 s apart.</summary>
    public static ActivityRetry Default { get; } = new(3, TimeSpan.FromSeconds(2));
}
