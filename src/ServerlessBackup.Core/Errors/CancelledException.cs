namespace ServerlessBackup.Errors;

/// <summary>
/// Work stopped because it was asked to (Ctrl+C, SIGTERM, a host shutting down), after undoing
/// what it had started; <see cref="Exception.Message"/> is one sentence saying what was undone.
/// </summary>
public sealed class CancelledException : OperationCanceledException
{
    public CancelledException(string whatWasUndone, OperationCanceledException cause)
        : base(whatWasUndone, cause, cause?.CancellationToken ?? default)
    {
    }

    /// <summary>Runs <paramref name="work"/>; if it is cancelled by <paramref name="cancellationToken"/>, says <paramref name="whatWasUndone"/>.</summary>
    public static async Task<T> SayingAsync<T>(Task<T> work, string whatWasUndone, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        try
        {
            return await work.ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (ex is not CancelledException && cancellationToken.IsCancellationRequested)
        {
            throw new CancelledException(whatWasUndone, ex);
        }
    }

    public CancelledException()
    {
    }

    public CancelledException(string message)
        : base(message)
    {
    }

    public CancelledException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
