namespace ServerlessBackup.Schedules;

/// <summary>What <c>sbk run-due</c> did for one database.</summary>
/// <param name="Database">The catalog name.</param>
/// <param name="Outcome">"backed-up", "failed", "skipped" (backed up since, or running elsewhere), "not-due" or "would-back-up" (dry run).</param>
/// <param name="Reason">Why it was (not) due.</param>
/// <param name="BackupId">The backup taken.</param>
/// <param name="Error">Why it failed.</param>
/// <param name="Seconds">How long the backup took.</param>
public sealed record RunDueResult(string Database, string Outcome, string Reason, string? BackupId, string? Error, double? Seconds);
