namespace ServerlessBackup.Retention;

/// <summary>A complete backup as retention sees it.</summary>
/// <param name="BackupId">The id.</param>
/// <param name="At">When it started.</param>
/// <param name="Label">Its label.</param>
/// <param name="Held">A hold is on it.</param>
/// <param name="Released">Someone released it from a keep-until-released label rule.</param>
/// <param name="Verified">A verification of it passed.</param>
public sealed record RetentionCandidate(string BackupId, DateTimeOffset At, string? Label, bool Held, bool Released, bool Verified);
