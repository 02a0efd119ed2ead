using ServerlessBackup.Verify;

namespace ServerlessBackup.Drills;

/// <summary>Everything a drill needs, decided by the host before it starts (the workflow reads no configuration).</summary>
/// <param name="DrillId">The drill's id (made by the host).</param>
/// <param name="Databases">The databases, in order.</param>
/// <param name="MaxParallel">Databases in flight at once.</param>
/// <param name="DeadlineSeconds">After this, unfinished databases are reported as timed out (their scratch databases are still dropped).</param>
/// <param name="Level">How far each restored copy is verified.</param>
public sealed record DrillInput(string DrillId, IReadOnlyList<DrillTarget> Databases, int MaxParallel, double DeadlineSeconds, VerificationLevel Level);

/// <summary>One database of a drill.</summary>
/// <param name="Database">The catalog name.</param>
/// <param name="Backup">"latest" or a backup id.</param>
/// <param name="RpoHours">Its recovery point objective.</param>
/// <param name="RtoHours">Its recovery time objective.</param>
public sealed record DrillTarget(string Database, string Backup, double RpoHours, double RtoHours);

/// <summary>The backup a drill restores.</summary>
public sealed record DrillBackup(string BackupId, DateTimeOffset SnapshotTime, long ArchiveBytes);

/// <summary>Input of the restore activity.</summary>
public sealed record DrillRestoreInput(string DrillId, string Database, string BackupId);

/// <summary>What the restore activity measured.</summary>
public sealed record DrillRestoreOutput(string ScratchDatabase, double DownloadSeconds, double DecryptSeconds, double RestoreSeconds, double TotalSeconds, long Bytes, int Jobs = 1);

/// <summary>Input of the verify activity.</summary>
public sealed record DrillVerifyInput(string Database, string BackupId, string ScratchDatabase, VerificationLevel Level);

/// <summary>What the verify activity found.</summary>
public sealed record DrillVerifyOutput(bool Passed, IReadOnlyList<VerificationCheck> Checks, long RowsVerified, double Seconds);

/// <summary>Input of the drop activity.</summary>
public sealed record DrillDropInput(string ScratchDatabase);

/// <summary>Earlier drills, for the trend.</summary>
public sealed record DrillHistoryInput(string DrillId, IReadOnlyList<string> Databases);

/// <summary>A database's figures in an earlier drill.</summary>
public sealed record DrillTrendPoint(string DrillId, DateTimeOffset StartedAt, string Database, string Outcome, double? RtoSeconds, double? RpoHours);

/// <summary>Where one database of a running drill is: the workflow's custom status maps each database to one.</summary>
/// <param name="Phase">waiting, finding the backup, restoring, verifying, dropping the scratch database, or the outcome.</param>
/// <param name="Since">When it entered that phase (the workflow's clock).</param>
public sealed record DrillProgress(string Phase, DateTimeOffset Since);
