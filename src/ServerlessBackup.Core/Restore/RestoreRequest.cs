namespace ServerlessBackup.Restore;

/// <summary>What to restore, and where.</summary>
public sealed record RestoreRequest
{
    /// <summary>The catalog name of the database whose backup is restored.</summary>
    public required string Database { get; init; }

    /// <summary>A backup id, or "latest".</summary>
    public string Backup { get; init; } = "latest";

    /// <summary>
    /// Null: a new scratch database. A scratch database's name (<c>sbk_scratch_…</c>): that existing
    /// scratch copy of the same database. Otherwise a catalogued database, which needs
    /// <see cref="Confirm"/> and is backed up first (label <c>emergency</c>).
    /// </summary>
    public string? Target { get; init; }

    /// <summary>Must repeat <see cref="Target"/> exactly when it is not a scratch database.</summary>
    public string? Confirm { get; init; }

    /// <summary>Restore only these tables (<c>schema.table</c>, or <c>table</c> when unambiguous).</summary>
    public IReadOnlyList<string> Tables { get; init; } = [];

    /// <summary>Restore data only, into an existing schema.</summary>
    public bool DataOnly { get; init; }

    /// <summary>pg_restore jobs; more than 1 lands the decrypted archive in a local temporary file first.</summary>
    public int Jobs { get; init; } = 1;

    /// <summary>Keep a new scratch database even when the restore fails (an integrity failure still drops it).</summary>
    public bool Keep { get; init; }

    /// <summary>Fragments of pg_restore errors to tolerate, in addition to the catalog's TolerateRestoreErrors.</summary>
    public IReadOnlyList<string> Tolerate { get; init; } = [];
}
