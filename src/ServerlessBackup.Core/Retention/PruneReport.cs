namespace ServerlessBackup.Retention;

/// <summary>What pruning decided (and, unless a dry run, did) for one database.</summary>
/// <param name="Database">The catalog name.</param>
/// <param name="RetentionConfigured">Whether the database has retention rules (without them everything is kept).</param>
/// <param name="DryRun">Whether nothing was deleted.</param>
/// <param name="Decisions">Every complete backup, newest first, keep or delete and why.</param>
/// <param name="OrphansSwept">Backup ids whose leftover objects (an archive without a manifest, from a crashed backup or deletion) were swept.</param>
/// <param name="Deleted">Backups deleted.</param>
public sealed record PruneReport(string Database, bool RetentionConfigured, bool DryRun, IReadOnlyList<RetentionDecision> Decisions, IReadOnlyList<string> OrphansSwept, int Deleted)
{
    /// <summary>Files that killed uploads left (the file store's partial objects) removed, once older than OrphanSafetyHours.</summary>
    public int PartialsSwept { get; init; }
}
