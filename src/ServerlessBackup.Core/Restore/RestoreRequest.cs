namespace ServerlessBackup.Restore;

/// <summary>What to restore, and where.</summary>
public sealed record RestoreRequest
{
    /// <summary>The catalog name of the database whose backup is restored.</summary>
    public required string Database { get; init; }

    /// <summary>A backup id, or "latest".</summary>
    public string Backup { get; init; } = "latest";

    /// <summary>Instead of <see cref="Backup"/>: the newest complete backup whose snapshot was taken before this instant.</summary>
    public DateTimeOffset? Before { get; init; }

    /// <summary>
    /// Null: a new scratch database. A scratch database's name (<c>sbk_scratch_…</c>): that existing
    /// scratch copy of the same database (replaced only once the new copy restored). Otherwise a
    /// catalogued database, which needs <see cref="Confirm"/> and is backed up first (label
    /// <c>emergency</c>); the backup is restored into a new database beside it, checked, and
    /// swapped in, the replaced database kept for a swap back (see <see cref="InPlace"/>).
    /// </summary>
    public string? Target { get; init; }

    /// <summary>Must repeat <see cref="Target"/> exactly when it is not a scratch database.</summary>
    public string? Confirm { get; init; }

    /// <summary>Restore only these tables (<c>schema.table</c>, or <c>table</c> when unambiguous).</summary>
    public IReadOnlyList<string> Tables { get; init; } = [];

    /// <summary>Restore data only, into an existing schema (in one transaction: a failure changes nothing).</summary>
    public bool DataOnly { get; init; }

    /// <summary>
    /// For a catalogued target whose server does not allow the swap (no CREATEDB, not the owner):
    /// restore into it in place, in one transaction (a failure changes nothing; no parallel jobs).
    /// </summary>
    public bool InPlace { get; init; }

    /// <summary>pg_restore jobs (default: the catalog's RestoreJobs; one for restores in one transaction); more than 1 lands the decrypted archive in a local temporary file first.</summary>
    public int? Jobs { get; init; }

    /// <summary>Keep a new scratch database even when the restore fails (an integrity failure still drops it).</summary>
    public bool Keep { get; init; }

    /// <summary>Fragments of pg_restore errors to tolerate, in addition to the catalog's TolerateRestoreErrors.</summary>
    public IReadOnlyList<string> Tolerate { get; init; } = [];
}
