namespace ServerlessBackup.Notify;

/// <summary>Something a person should hear about.</summary>
/// <param name="Event">backup-failed, database-late, retention-stalled, drill-report, test.</param>
/// <param name="Database">The catalog name of the database, if it concerns one.</param>
/// <param name="Title">One line: what happened.</param>
/// <param name="Text">The details (never a secret).</param>
/// <param name="NextCommand">The command to run next, if there is one.</param>
/// <param name="At">When it happened.</param>
public sealed record Notification(string Event, string? Database, string Title, string Text, string? NextCommand, DateTimeOffset At);
