namespace ServerlessBackup.Verify;

/// <summary>
/// The result of verifying one backup. It names tables and row counts, so it is stored sealed
/// under the backup's key (see <see cref="VerificationStatus"/> for the clear part).
/// </summary>
public sealed record VerificationReport
{
    /// <summary>Version of this report's shape.</summary>
    public int SchemaVersion { get; init; } = 1;

    /// <summary>The catalog name of the database.</summary>
    public required string Database { get; init; }

    /// <summary>The backup verified.</summary>
    public required string BackupId { get; init; }

    /// <summary>The instant the backup describes.</summary>
    public required DateTimeOffset SnapshotTime { get; init; }

    /// <summary>The level asked for.</summary>
    public required VerificationLevel Level { get; init; }

    /// <summary>Whether every check passed.</summary>
    public required bool Passed { get; init; }

    /// <summary>When the verification started.</summary>
    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>The scratch database used, if any.</summary>
    public string? ScratchDatabase { get; init; }

    /// <summary>Whether the scratch database was kept.</summary>
    public bool Kept { get; init; }

    /// <summary>Rows counted in the restored copy and found equal to the census.</summary>
    public long RowsVerified { get; init; }

    /// <summary>Size of the pg_dump archive.</summary>
    public long ArchiveBytes { get; init; }

    /// <summary>Where the time went.</summary>
    public required PhaseTimings Timings { get; init; }

    /// <summary>Every check, in order.</summary>
    public required IReadOnlyList<VerificationCheck> Checks { get; init; }

    /// <summary>Why the verification stopped early, if it did.</summary>
    public string? Error { get; init; }

    /// <summary>Whether it failed because the backup does not authenticate.</summary>
    public bool IntegrityFailure { get; init; }
}
