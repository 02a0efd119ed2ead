using ServerlessBackup.Verify;

namespace ServerlessBackup.Drills;

/// <summary>A drill's report: schema-versioned JSON for machines and trend lines; Markdown and HTML are rendered from it.</summary>
public sealed record DrillReport
{
    /// <summary>Version of this report's shape.</summary>
    public int SchemaVersion { get; init; } = 1;

    /// <summary>The drill's id.</summary>
    public required string DrillId { get; init; }

    /// <summary>When the drill started (the workflow's clock).</summary>
    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>When it finished.</summary>
    public required DateTimeOffset FinishedAt { get; init; }

    /// <summary>The deadline.</summary>
    public required DateTimeOffset DeadlineAt { get; init; }

    /// <summary>How far copies were verified.</summary>
    public required VerificationLevel Level { get; init; }

    /// <summary>Per database, in the order given.</summary>
    public required IReadOnlyList<DrillDatabaseResult> Databases { get; init; }

    /// <summary>Earlier drills' figures for the same databases, oldest first.</summary>
    public IReadOnlyList<DrillTrendPoint> Trend { get; init; } = [];

    /// <summary>Databases that met every objective.</summary>
    public int Passed => Databases.Count(d => d.Outcome == DrillOutcome.Passed);

    /// <summary>Whether every database passed.</summary>
    public bool AllPassed => Databases.Count > 0 && Passed == Databases.Count;
}

/// <summary>How one database did.</summary>
public enum DrillOutcome
{
    /// <summary>Restored, verified, within both objectives.</summary>
    Passed,
    /// <summary>Something failed, or an objective was missed.</summary>
    Failed,
    /// <summary>The drill's deadline passed first.</summary>
    TimedOut,
}

/// <summary>One database's result.</summary>
public sealed record DrillDatabaseResult
{
    /// <summary>The catalog name.</summary>
    public required string Database { get; init; }

    /// <summary>The outcome.</summary>
    public required DrillOutcome Outcome { get; init; }

    /// <summary>Why it failed or timed out (empty when it passed).</summary>
    public IReadOnlyList<string> Reasons { get; init; } = [];

    /// <summary>The backup restored.</summary>
    public string? BackupId { get; init; }

    /// <summary>The instant that backup describes.</summary>
    public DateTimeOffset? SnapshotTime { get; init; }

    /// <summary>Recovery point: drill start minus the backup's snapshot time, in hours.</summary>
    public double? RpoHours { get; init; }

    /// <summary>The recovery point objective.</summary>
    public required double RpoObjectiveHours { get; init; }

    /// <summary>Recovery time: from the start of the download to a verified database, in seconds (restore + verify as measured).</summary>
    public double? RtoSeconds { get; init; }

    /// <summary>The recovery time objective.</summary>
    public required double RtoObjectiveHours { get; init; }

    /// <summary>Phase timings as measured, seconds.</summary>
    public DrillPhases? Phases { get; init; }

    /// <summary>Stored size of the backup.</summary>
    public long ArchiveBytes { get; init; }

    /// <summary>Size of the pg_dump archive restored.</summary>
    public long DumpBytes { get; init; }

    /// <summary>Rows counted in the copy and equal to the census.</summary>
    public long RowsVerified { get; init; }

    /// <summary>The checks run on the copy.</summary>
    public IReadOnlyList<VerificationCheck> Checks { get; init; } = [];

    /// <summary>The scratch database used.</summary>
    public string? ScratchDatabase { get; init; }

    /// <summary>Whether it was dropped (always attempted, with retries).</summary>
    public bool ScratchDropped { get; init; }
}

/// <summary>Where a database's recovery time went, seconds, as measured. Download and decrypt overlap the restore (a streamed restore); restore is pg_restore's whole run; RestoreTotal is the whole restore step (scratch database, download, decrypt, pg_restore). RTO = RestoreTotal + Verify. Jobs: the pg_restore jobs used (the catalog's RestoreJobs, as a real restore would).</summary>
public sealed record DrillPhases(double Download, double Decrypt, double Restore, double RestoreTotal, double Verify, int Jobs = 1);
