namespace ServerlessBackup.Errors;

/// <summary>What kind of failure an <see cref="SbkException"/> reports; hosts map it to exit codes and HTTP statuses.</summary>
public enum SbkErrorKind
{
    /// <summary>The operation failed (a dump, an upload, a server error).</summary>
    Failed,
    /// <summary>The configuration or the request is wrong; the message says what to change.</summary>
    Configuration,
    /// <summary>A database, backup, secret or object does not exist.</summary>
    NotFound,
    /// <summary>Stored data did not authenticate: tampering, truncation, corruption or a wrong key.</summary>
    Integrity,
    /// <summary>Another operation holds the database's lock.</summary>
    AlreadyRunning,
}
