using ServerlessBackup.Backups;
using ServerlessBackup.Verify;

namespace ServerlessBackup.Schedules;

/// <summary>One database's freshness, as <c>sbk status</c> and the health endpoint show it.</summary>
/// <param name="Database">The catalog name.</param>
/// <param name="State">OK, LATE or FAILING.</param>
/// <param name="Summary">A sentence for people.</param>
/// <param name="LastBackupId">The newest complete backup.</param>
/// <param name="LastBackupAt">When it started.</param>
/// <param name="LastBackupAgeHours">Its age.</param>
/// <param name="LastVerifiedId">The newest backup that passed a verification.</param>
/// <param name="LastVerifiedBackupAgeHours">That backup's age.</param>
/// <param name="LastVerifiedAt">When that verification ran.</param>
/// <param name="LastVerifiedLevel">How far it went.</param>
/// <param name="RpoHours">The recovery point objective in force.</param>
/// <param name="Schedule">The schedule, if any.</param>
/// <param name="NextDue">The next scheduled backup.</param>
/// <param name="LastAttempt">The newest attempt.</param>
public sealed record DatabaseStatus(
    string Database,
    FreshnessState State,
    string Summary,
    string? LastBackupId,
    DateTimeOffset? LastBackupAt,
    double? LastBackupAgeHours,
    string? LastVerifiedId,
    double? LastVerifiedBackupAgeHours,
    DateTimeOffset? LastVerifiedAt,
    VerificationLevel? LastVerifiedLevel,
    double RpoHours,
    string? Schedule,
    DateTimeOffset? NextDue,
    BackupAttempt? LastAttempt);
