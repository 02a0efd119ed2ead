namespace ServerlessBackup.Schedules;

/// <summary>Whether a database is due for a backup now.</summary>
/// <param name="Database">The catalog name.</param>
/// <param name="Due">Whether a backup should start now.</param>
/// <param name="Reason">Why (or why not), in a sentence.</param>
/// <param name="LastBackupAt">When the newest complete backup started.</param>
/// <param name="MissedSlot">The first scheduled time since then, when it has passed.</param>
/// <param name="NextSlot">The next scheduled time after now.</param>
public sealed record DueCheck(string Database, bool Due, string Reason, DateTimeOffset? LastBackupAt, DateTimeOffset? MissedSlot, DateTimeOffset? NextSlot);
