namespace ServerlessBackup.Errors;

/// <summary>Stored data failed authentication: it was altered, truncated, reordered, spliced, or the key is wrong.</summary>
public sealed class IntegrityException : SbkException
{
    /// <summary>Creates the exception.</summary>
    public IntegrityException(string message, Exception? innerException = null)
        : base(SbkErrorKind.Integrity, message, isTransient: false, innerException)
    {
    }
}
