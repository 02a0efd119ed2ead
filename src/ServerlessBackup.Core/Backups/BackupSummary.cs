namespace ServerlessBackup.Backups;

/// <summary>A complete backup as listing shows it (from the manifest's clear part; not authenticated).</summary>
/// <param name="Database">Catalog name.</param>
/// <param name="BackupId">The id.</param>
/// <param name="StartedAt">Start time.</param>
/// <param name="SnapshotTime">The instant the backup describes.</param>
/// <param name="Label">The label, if any.</param>
/// <param name="ArchiveLength">Stored size in bytes.</param>
/// <param name="DumpLength">Size of the pg_dump archive in bytes.</param>
public sealed record BackupSummary(string Database, string BackupId, DateTimeOffset StartedAt, DateTimeOffset SnapshotTime, string? Label, long ArchiveLength, long DumpLength)
{
    /// <summary>The highest level at which the latest verification passed, if any did.</summary>
    public Verify.VerificationStatus? Verified { get; init; }

    /// <summary>The most recent verification at any level, passed or not.</summary>
    public Verify.VerificationStatus? LastVerification { get; init; }
}

/// <summary>A listing: the backups that authenticate, newest first, and what was left out and why.</summary>
/// <param name="Backups">Complete backups whose listing could be trusted.</param>
/// <param name="Ignored">One sentence per object left out (a forged manifest or verification record).</param>
public sealed record BackupListing(IReadOnlyList<BackupSummary> Backups, IReadOnlyList<string> Ignored);
