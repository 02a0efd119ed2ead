using ServerlessBackup.Verify;

namespace ServerlessBackup.Restore;

/// <summary>The outcome of a successful restore.</summary>
/// <param name="Database">The catalog name of the database whose backup was restored.</param>
/// <param name="BackupId">The backup restored.</param>
/// <param name="Target">The database restored into.</param>
/// <param name="TargetIsScratch">Whether it is a scratch database.</param>
/// <param name="ExpiresAt">For a scratch database, when the janitor may drop it.</param>
/// <param name="EmergencyBackupId">For a catalogued target, the backup taken of it first.</param>
/// <param name="Tables">The tables restored, when not all.</param>
/// <param name="DataOnly">Whether only data was restored.</param>
/// <param name="Jobs">pg_restore jobs.</param>
/// <param name="Bytes">Size of the pg_dump archive fed to pg_restore.</param>
/// <param name="ToleratedErrors">pg_restore errors that matched a tolerated fragment.</param>
/// <param name="FirstToleratedErrors">The first of them.</param>
/// <param name="Timings">Where the time went.</param>
/// <param name="Previous">For a catalogued target restored by a swap, the replaced database, kept for a swap back (null when not kept).</param>
/// <param name="Notes">What the restore could not carry over (a database setting only a superuser may set, say).</param>
public sealed record RestoreResult(
    string Database,
    string BackupId,
    string Target,
    bool TargetIsScratch,
    DateTimeOffset? ExpiresAt,
    string? EmergencyBackupId,
    IReadOnlyList<string> Tables,
    bool DataOnly,
    int Jobs,
    long Bytes,
    int ToleratedErrors,
    IReadOnlyList<string> FirstToleratedErrors,
    PhaseTimings Timings,
    PreviousDatabase? Previous = null,
    IReadOnlyList<string>? Notes = null);
