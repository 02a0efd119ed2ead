namespace ServerlessBackup.Backups;

/// <summary>The newest backup attempt of a database, stored in clear beside its backups (so it carries no message, only the kind of failure).</summary>
/// <param name="At">When it ended.</param>
/// <param name="Succeeded">Whether it produced a backup.</param>
/// <param name="BackupId">The backup it produced.</param>
/// <param name="ErrorKind">The kind of failure (Failed, Configuration, NotFound, Integrity, AlreadyRunning).</param>
public sealed record BackupAttempt(DateTimeOffset At, bool Succeeded, string? BackupId, string? ErrorKind);
