namespace ServerlessBackup.Errors;

/// <summary>
/// A real failure of the engine, with a message written for the person who has to act on it
/// (which database, which backup, what to do next). Messages never contain secrets.
/// </summary>
public class SbkException : Exception
{
    /// <param name="kind">The kind of failure.</param>
    /// <param name="message">A full sentence naming the database or backup and the next step.</param>
    /// <param name="isTransient">Whether trying again later may succeed (the retry layer reads this).</param>
    /// <param name="innerException">The cause, if any. Its message must not carry secrets either.</param>
    public SbkException(SbkErrorKind kind, string message, bool isTransient = false, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
        IsTransient = isTransient;
    }

    /// <summary>The kind of failure.</summary>
    public SbkErrorKind Kind { get; }

    /// <summary>Whether the same call may succeed if tried again later.</summary>
    public bool IsTransient { get; }
}
