namespace ServerlessBackup.Errors;

/// <summary>Stored data failed authentication: it was altered, truncated, reordered, spliced, or the key is wrong.</summary>
public sealed class IntegrityException : SbkException
{
    public IntegrityException(string message, Exception? innerException = null)
        : base(SbkErrorKind.Integrity, message, isTransient: false, innerException)
    {
    }
}
