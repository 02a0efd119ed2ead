namespace ServerlessBackup.Workflows;

/// <summary>
/// A transient engine failure (a lost connection, a lock held a moment too long) leaving an
/// activity. It is deliberately not an <see cref="Errors.SbkException"/>: both workflow runtimes
/// retry every activity failure except an <see cref="Errors.SbkException"/>, and the Durable Task
/// runtime only sees the failure's type name, not its transient flag.
/// </summary>
public sealed class TransientActivityException : Exception
{
    /// <summary>Creates the exception with the engine's message.</summary>
    public TransientActivityException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public TransientActivityException()
    {
    }

    public TransientActivityException(string message)
        : base(message)
    {
    }
}
