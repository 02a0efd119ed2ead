namespace ServerlessBackup.Retention;

/// <summary>Keep or delete one backup, and the rule that decided.</summary>
/// <param name="BackupId">The id.</param>
/// <param name="At">When it started.</param>
/// <param name="Label">Its label.</param>
/// <param name="Keep">Whether it is kept.</param>
/// <param name="Rule">The rule that decided, in words ("daily 3 of 7 (2026-11-19)", "held", "not kept by any rule").</param>
public sealed record RetentionDecision(string BackupId, DateTimeOffset At, string? Label, bool Keep, string Rule);
